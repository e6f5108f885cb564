"""options: the one table, and everything derived from it or checked against it."""

import re
from pathlib import Path

import pytest
import yaml
from zombie_reaper.config import read_config
from zombie_reaper.errors import ConfigError
from zombie_reaper.ladder import parse_ladder
from zombie_reaper.options import (BY_NAME, CONFIG_KEYS, MODULE_OPTIONS, OPTIONS, Policy, module_argument_spec,
                                   readme_table)

ROOT = Path(__file__).resolve().parents[5]
ROLE = ROOT / "roles" / "reaper"
# Options the role sets itself (paths it manages) and options it leaves out: per-run limits make no sense
# fleet-wide, and the state file's own lock keeps its runs apart (no separate lock file).
ROLE_MANAGED = {"state_file", "log", "textfile"}
ROLE_NOT_EXPOSED = {"limit_subtree", "limit_cgroup", "limit_container", "lock"}


def test_reap_is_the_default_first_rung_and_one_switch_turns_it_off():
    default = Policy.from_options()
    assert [repr(r) for r in default.ladder] == ["REAP:2", "SIGCHLD:15", "SIGTERM:15", "SIGKILL:5"]
    assert default.ladder[0].gentle and default.ladder[0].signum is None
    signals_only = Policy.from_options(reap="no")
    assert [repr(r) for r in signals_only.ladder] == ["SIGCHLD:15", "SIGTERM:15", "SIGKILL:5"]
    assert not signals_only.reaps_in_place
    explicit = Policy.from_options(reap=True, ladder="REAP:4,SIGKILL:1")
    assert [repr(r) for r in explicit.ladder] == ["REAP:4", "SIGKILL:1"]
    assert Policy.from_options(ladder=[{"signal": "reap", "wait": 1}]).reaps_in_place
    with pytest.raises(ConfigError, match="reap must be true or false"):
        Policy.from_options(reap="sometimes")
    with pytest.raises(ConfigError, match="reap_min_age_seconds"):
        Policy.from_options(reap=True, reap_min_age_seconds=-1)


def test_policy_names_the_bad_value():
    with pytest.raises(ConfigError, match="max_parents must be a whole number, got 'lots'"):
        Policy.from_options(max_parents="lots")
    with pytest.raises(ConfigError, match="unknown option"):
        Policy.from_options(colour="blue")
    with pytest.raises(ConfigError, match="protect must be a list"):
        Policy.from_options(protect=[""])
    with pytest.raises(ConfigError, match="unknown option"):
        Policy.from_options(dry_run=True)  # a run setting of the node command, not a policy option


def test_every_default_in_the_table_is_valid():
    policy = Policy.from_options()
    described = policy.describe()
    assert set(described) == set(o.name for o in MODULE_OPTIONS)
    for option in OPTIONS:
        option.parse(option.default)


def test_readme_options_table_is_the_table():
    readme = (ROOT / "README.md").read_text()
    assert readme_table() in readme, "README options table differs; paste readme_table() output:\n" + readme_table()


def test_module_argument_specs_come_from_the_table():
    acting, info = module_argument_spec(acting=True), module_argument_spec(acting=False)
    assert set(acting) == set(o.name for o in MODULE_OPTIONS)
    assert set(info) == set(o.name for o in MODULE_OPTIONS if not o.acting)
    assert acting["confirm_seconds"]["default"] == 2.0 and info["confirm_seconds"]["default"] == 0.0


def test_role_defaults_argument_specs_and_config_template_match_the_table():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    template_keys = set(re.findall(r"^(\w+) =", (ROLE / "templates" / "reaper.conf.j2").read_text(), re.M))
    exposed = [o for o in OPTIONS if not o.hidden and o.name not in ROLE_MANAGED | ROLE_NOT_EXPOSED]
    for option in exposed:
        variable = "zombie_reaper_" + option.name
        assert variable in defaults and variable in specs, variable
        if option.kind == "ladder":
            assert [(r.action, r.wait) for r in parse_ladder(defaults[variable])] == \
                [(r.action, r.wait) for r in parse_ladder(option.default)]
        else:
            assert defaults[variable] == option.default, variable
        assert specs[variable]["default"] == defaults[variable], variable
    assert template_keys == set(o.name for o in exposed) | ROLE_MANAGED
    assert template_keys <= set(CONFIG_KEYS)


def test_every_option_works_in_a_config_file(tmp_path):
    values = {"min_zombies": "2", "confirm_seconds": "0", "min_age_seconds": "1", "ladder": "SIGTERM:1",
              "container_init_cooldown": "10", "protect": "a, b", "state_file": "/tmp/s.json", "backend": "procfs",
              "scope": "all", "max_parents": "3", "limit_subtree": "5", "limit_cgroup": "/kubepods/*",
              "limit_container": "abcd", "reap": "true", "reap_min_age_seconds": "2", "dry_run": "yes",
              "restart_container_init": "never", "restart_pressure_percent": "80", "restart_time_left_seconds": "60",
              "restart_budget": "1",
              "log": "/tmp/l", "lock": "/tmp/k", "textfile": "/tmp/t.prom", "rescan_seconds": "60"}
    assert set(values) == set(CONFIG_KEYS)
    path = tmp_path / "reaper.conf"
    path.write_text("[reaper]\n" + "".join("%s = %s\n" % item for item in values.items()))
    read = read_config(str(path))
    policy = Policy.from_options(**{k: v for k, v in read.items() if k in set(o.name for o in MODULE_OPTIONS)})
    assert (policy.limit_cgroup, policy.limit_container, policy.limit_subtree) == ("/kubepods/*", "abcd", 5)
    assert policy.protect == ["a", "b"] and policy.reaps_in_place and read["dry_run"] is True


@pytest.mark.parametrize("key", ["proc_root", "pods_log_dir", "colour"])
def test_config_file_refuses_hidden_and_unknown_keys(tmp_path, key):
    path = tmp_path / "reaper.conf"
    path.write_text("[reaper]\n%s = /x\n" % key)
    with pytest.raises(ConfigError, match="unknown key"):
        read_config(str(path))


@pytest.mark.parametrize("value", ["5", "0", "86401", "soon"])
def test_rescan_seconds_outside_10_to_86400_is_an_error(value):
    with pytest.raises(ConfigError, match="rescan_seconds"):
        BY_NAME["rescan_seconds"].parse(value)
