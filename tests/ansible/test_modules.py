"""The modules through real `ansible` and `ansible-playbook`, on processes this test creates."""

import ast
import json
import os
import subprocess
import textwrap

import pytest
import yaml

from conftest import ROOT, ansible_env, parent_entry

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for PID namespaces")


def adhoc(module, args, *extra):
    """Run `ansible localhost -m MODULE -a ARGS` from the repository root; return (rc, task result)."""
    result = subprocess.run(["ansible", "localhost", "-m", module, "-a", args] + list(extra),
                            cwd=ROOT, env=ansible_env(), capture_output=True, text=True, timeout=120, check=False)
    assert result.stdout, result.stderr
    output = json.loads(result.stdout)
    return result.returncode, output["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_zombie_info_fqcn_reports_the_tenant(spawn):
    tenant = spawn("--zombies", 5, namespace=True)
    rc, result = adhoc("fleetops.zombie_reaper.zombie_info", "limit_subtree=%d" % tenant.sandbox_pid)
    assert rc == 0
    assert result["changed"] is False
    entry = parent_entry(result, tenant.pid)
    assert entry["class"] == "container_init" and entry["zombies"] == 5 and entry["outcome"] == "eligible"
    assert tenant.alive() and len(tenant.zombies()) == 5


def test_zombie_reap_short_name_in_check_mode_predicts_and_changes_nothing(spawn):
    tenant = spawn("--zombies", 3, namespace=True)
    rc, result = adhoc("zombie_reap", "min_zombies=3 confirm_seconds=0.2 restart_container_init=always reap=false "
                       "limit_subtree=%d" % tenant.sandbox_pid, "--check")
    assert rc == 0
    assert result["changed"] is True and result["mode"] == "dry_run"  # it would act: an honest prediction
    assert parent_entry(result, tenant.pid)["outcome"] == "would_signal"
    assert result["signals_sent"] == 0
    assert tenant.alive() and len(tenant.zombies()) == 3


def test_zombie_reap_by_default_keeps_the_tenant_init_running(spawn):
    tenant = spawn("--zombies", 4, namespace=True)
    rc, result = adhoc("fleetops.zombie_reaper.zombie_reap",
                       "reap_min_age_seconds=0.3 confirm_seconds=0.2 limit_subtree=%d" % tenant.sandbox_pid)
    assert rc == 0
    assert result["changed"] is True and result["signals_sent"] == 0 and result["zombies_reaped_in_place"] == 4
    entry = parent_entry(result, tenant.pid)
    assert entry["class"] == "container_init" and entry["outcome"] == "reaped"
    assert entry["signals"][0]["signal"] == "REAP" and entry["signals"][0]["result"] == "reaped"
    assert result["policy"]["reap"] is True and result["policy"]["ladder"][0] == {"signal": "REAP", "wait": 2.0}
    assert tenant.alive() and tenant.zombies() == []


def test_zombie_reap_clears_the_tenant_and_reports_changed(spawn):
    tenant = spawn("--zombies", 4, "--every", 0.3, namespace=True)
    rc, result = adhoc("fleetops.zombie_reaper.zombie_reap",
                       "confirm_seconds=0.2 restart_container_init=always reap=false limit_subtree=%d"
                       % tenant.sandbox_pid)
    assert rc == 0
    assert result["changed"] is True and result["container_restarts"] == 1
    entry = parent_entry(result, tenant.pid)
    assert entry["outcome"] == "parent_exited" and entry["restarted"] is True
    assert [s["signal"] for s in entry["signals"]] == ["SIGKILL"]


@pytest.mark.parametrize("args, message", [
    ('{"ladder": [{"signal": "SIGFOO", "wait": 1}]}', "SIGFOO"),
    ("ladder=SIGTERM:5,SIGFOO:5", "SIGFOO"),
    ('{"ladder": [{"signal": "SIGTERM", "wiat": 1}]}', "must have keys 'signal' and 'wait'"),
    ('{"ladder": {"signal": "SIGTERM"}}', "ladder must be a list"),
    ("ladder=SIGTERM:1e12", "at most 600 seconds"),
])
def test_zombie_reap_bad_ladder_fails_naming_it(args, message):
    rc, result = adhoc("fleetops.zombie_reaper.zombie_reap", args, "--check")
    assert rc != 0
    assert result["failed"] is True and message in result["msg"], result["msg"]


def test_zombie_reap_takes_the_ladder_as_typed_ad_hoc(spawn):
    tenant = spawn("--zombies", 2, namespace=True)
    rc, result = adhoc("fleetops.zombie_reaper.zombie_reap", "ladder=SIGTERM:5,SIGKILL:5 reap=false confirm_seconds=0.2 "
                       "restart_container_init=always limit_subtree=%d" % tenant.sandbox_pid, "--check")
    assert rc == 0, result
    assert result["policy"]["ladder"] == [{"signal": "SIGTERM", "wait": 5.0}, {"signal": "SIGKILL", "wait": 5.0}]
    assert parent_entry(result, tenant.pid)["outcome"] == "would_signal" and tenant.alive()


def test_playbook_sigchld_ladder_reaps_a_container_init_without_restart(spawn, tmp_path):
    tenant = spawn("--zombies", 2, "--reap-on-sigchld", namespace=True)
    playbook = tmp_path / "reap.yml"
    playbook.write_text(textwrap.dedent("""\
        - name: Reap one sandbox
          hosts: localhost
          gather_facts: false
          tasks:
            - name: Reap with a SIGCHLD-only ladder
              fleetops.zombie_reaper.zombie_reap:
                limit_subtree: %d
                confirm_seconds: 0.2
                reap: false
                ladder:
                  - signal: SIGCHLD
                    wait: 3
              register: reap
            - name: Check the outcome
              ansible.builtin.assert:
                that:
                  - reap.parents | length == 1
                  - reap.parents[0].class == 'container_init'
                  - reap.parents[0].outcome == 'reaped'
                  - reap.signals_sent == 1
                  - reap is changed
        """ % tenant.sandbox_pid))
    result = subprocess.run(["ansible-playbook", str(playbook)], cwd=ROOT, env=ansible_env(), capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    # the tenant's init caught SIGCHLD and reaped: it was not restarted
    assert tenant.alive() and tenant.zombies() == []


# What Ansible and its json callback add to a module's result (not the module's to document).
ANSIBLE_KEYS = {"action", "changed", "invocation", "warnings", "deprecations", "_ansible_no_log", "ansible_facts"}


def return_doc(module):
    """The module's RETURN block, loaded as YAML from its source."""
    tree = ast.parse((ROOT / "plugins" / "modules" / (module + ".py")).read_text())
    (text,) = [node.value.value for node in tree.body if isinstance(node, ast.Assign)
               and getattr(node.targets[0], "id", None) == "RETURN"]
    return yaml.safe_load(text)


@pytest.mark.parametrize("module, args, extra", [
    ("zombie_info", "", []),
    ("zombie_reap", "confirm_seconds=0.2 reap=false", ["--check"]),
    ("zombie_reap", "confirm_seconds=0.2 reap_min_age_seconds=0.2", []),
    ("zombie_reap", "confirm_seconds=0.2 restart_container_init=always reap=false", []),
], ids=["info", "reap-check", "reap-in-place", "reap-signals"])
def test_return_docs_name_every_key_the_module_returns(spawn, module, args, extra):
    tenant = spawn("--zombies", 2, namespace=True)
    rc, result = adhoc("fleetops.zombie_reaper." + module, "%s limit_subtree=%d" % (args, tenant.sandbox_pid), *extra)
    assert rc == 0, result
    doc = return_doc(module)
    assert set(result) - ANSIBLE_KEYS == set(doc)
    entry = parent_entry(result, tenant.pid)
    assert set(entry) == set(doc["parents"]["contains"])
