"""The reaper role applied to a throwaway root prefix on this machine (no service is touched)."""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap

import pytest
import yaml

from conftest import PACKAGE, ROOT, ansible_env
from zombie_reaper.config import read_config
from zombie_reaper.options import POLICY_OPTIONS, Policy, module_argument_spec

ROLE = ROOT / "roles" / "reaper"


def apply_role(prefix, tmp_path, check=False, fails=False, **variables):
    """Run the role against localhost with every path below ``prefix``; return (stats, output)."""
    variables.setdefault("zombie_reaper_root_prefix", str(prefix))
    playbook = tmp_path / "site.yml"
    playbook.write_text(textwrap.dedent("""\
        - name: Apply the reaper role
          hosts: localhost
          connection: local
          gather_facts: false
          roles:
            - role: fleetops.zombie_reaper.reaper
        """))
    command = ["ansible-playbook", str(playbook), "-e", json.dumps(variables)]
    if check:
        command.append("--check")
    result = subprocess.run(command, cwd=ROOT, env=ansible_env(), capture_output=True, text=True, timeout=300,
                            check=False)
    output = json.loads(result.stdout) if result.stdout.startswith("{") else {}
    assert (result.returncode != 0) == fails, result.stdout[-4000:] + result.stderr[-2000:]
    return output["stats"]["localhost"], output


def package_files():
    """The engine package's source files, as the role ships them (no __pycache__)."""
    return sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py"))


def files_below(prefix):
    return sorted(str(p.relative_to(prefix)) for p in prefix.rglob("*") if p.is_file())


def test_argument_specs_match_defaults():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert set(defaults) == set(specs)
    for name, value in defaults.items():
        assert specs[name]["default"] == value, name
        assert specs[name].get("description"), name


def test_systemd_flavour_installs_everything_and_is_idempotent(tmp_path):
    prefix = tmp_path / "root"
    legacy = [prefix / "etc/cron.d/kill_zombie_parents", prefix / "usr/local/bin/kill_zombie_parents.sh"]
    for path in legacy:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("legacy\n")
    variables = dict(zombie_reaper_scheduler="systemd", zombie_reaper_textfile_dir="/var/lib/node-exporter",
                     zombie_reaper_alert_rules_path="/etc/prometheus/rules/zombie-reaper.rules.yml",
                     zombie_reaper_runbook_url="https://wiki.example.invalid/zombies",
                     zombie_reaper_protect=["pod:payments/*", "my-agent"])
    stats, _output = apply_role(prefix, tmp_path, **variables)
    assert stats["changed"] > 0 and stats["failures"] == 0
    assert files_below(prefix) == sorted([
        "etc/logrotate.d/zombie-reaper", "etc/prometheus/rules/zombie-reaper.rules.yml",
        "etc/systemd/system/zombie-reaper.service", "etc/systemd/system/zombie-reaper.timer",
        "etc/zombie-reaper/reaper.conf", "usr/local/bin/zombie-reaper", "usr/local/share/doc/zombie-reaper/runbook.md"]
        + ["usr/local/lib/zombie-reaper/zombie_reaper/" + name for name in package_files()])
    assert not any(p.exists() for p in legacy)
    # the engine installed is the collection's package itself, file for file
    for name in package_files():
        assert (prefix / "usr/local/lib/zombie-reaper/zombie_reaper" / name).read_bytes() == \
            (PACKAGE / name).read_bytes(), name
    for name in ("etc/systemd/system/zombie-reaper.service", "etc/systemd/system/zombie-reaper.timer",
                 "etc/zombie-reaper/reaper.conf", "etc/logrotate.d/zombie-reaper"):
        assert (prefix / name).read_text().startswith("#"), name
    timer = (prefix / "etc/systemd/system/zombie-reaper.timer").read_text()
    assert "OnUnitActiveSec=5min" in timer and "RandomizedDelaySec=60" in timer
    service = (prefix / "etc/systemd/system/zombie-reaper.service").read_text()
    # The sandbox gets no write access to node_exporter's directory: a root step moves the metrics in.
    assert "ReadWritePaths=/var/log/zombie-reaper /var/lib/zombie-reaper\n" in service
    assert ("ExecStart=/usr/local/bin/zombie-reaper --runtime-records /var/lib/zombie-reaper/runtime-records.json "
            "--textfile /var/lib/zombie-reaper/zombie_reaper.prom\n") in service
    # the runtimes' root-only bundles, exported by a root step that may fail without failing the run
    assert ("ExecStartPre=-+/usr/local/bin/zombie-reaper --export-runtime-records "
            "/var/lib/zombie-reaper/runtime-records.json\n") in service
    assert ("ExecStopPost=+/usr/local/bin/zombie-reaper --publish-metrics /var/lib/zombie-reaper/zombie_reaper.prom\n"
            in service)
    config = read_config(str(prefix / "etc/zombie-reaper/reaper.conf"))
    assert config["textfile"] == "/var/lib/node-exporter/zombie_reaper.prom"
    assert "SendSIGKILL=no" in service  # a stop never SIGKILLs the reaper mid-round
    assert "Documentation=file:///usr/local/share/doc/zombie-reaper/runbook.md\n" in service
    assert (prefix / "usr/local/share/doc/zombie-reaper/runbook.md").read_text() == (ROOT / "docs/runbook.md").read_text()
    rules = yaml.safe_load((prefix / "etc/prometheus/rules/zombie-reaper.rules.yml").read_text())["groups"][0]["rules"]
    assert [r["annotations"]["runbook_url"] for r in rules] == [
        "https://wiki.example.invalid/zombies#" + r["alert"].lower() for r in rules]
    # second run: nothing changes
    stats, _output = apply_role(prefix, tmp_path, **variables)
    assert stats["changed"] == 0
    # an installed file edited on the node, size and mtime kept, is put back (the archive's members share one mtime)
    edited = prefix / "usr/local/lib/zombie-reaper/zombie_reaper/cli.py"
    before = edited.stat()
    edited.write_bytes(edited.read_bytes().replace(b"import", b"IMPORT", 1))
    os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns))
    stats, _output = apply_role(prefix, tmp_path, **variables)
    assert stats["changed"] > 0 and edited.read_bytes() == (PACKAGE / "cli.py").read_bytes()


def test_the_engine_archive_is_the_same_bytes_from_any_checkout(tmp_path):
    names = package_files()
    archives = []
    for index, stamp in enumerate((1_000_000_000, 1_700_000_000)):
        checkout = tmp_path / str(index)
        shutil.copytree(PACKAGE, checkout, ignore=shutil.ignore_patterns("__pycache__"))
        for path in checkout.rglob("*"):
            os.utime(path, (stamp, stamp))
        archive = tmp_path / ("engine%d.tar" % index)
        subprocess.run([sys.executable, str(ROLE / "files/pack_engine.py"), str(checkout), str(archive)] + names,
                       check=True)
        archives.append(archive.read_bytes())
    assert archives[0] == archives[1]
    with tarfile.open(tmp_path / "engine0.tar") as tar:
        members = tar.getmembers()
    assert sorted(m.name for m in members if m.isfile()) == names
    assert {(m.uid, m.gid, m.mode) for m in members if m.isfile()} == {(0, 0, 0o644)}
    assert {m.name for m in members if m.isdir()} == {n.rsplit("/", 1)[0] for n in names if "/" in n}
    refused = subprocess.run([sys.executable, str(ROLE / "files/pack_engine.py"), str(PACKAGE),
                              str(tmp_path / "x.tar"), "../outside.py"], capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and "not below the source directory" in refused.stderr


def test_installed_config_is_read_by_the_engine(tmp_path):
    prefix = tmp_path / "root"
    apply_role(prefix, tmp_path, zombie_reaper_ladder=[{"signal": "SIGTERM", "wait": 3}, {"signal": "SIGKILL"}],
               zombie_reaper_protect=["pod:payments/*"], zombie_reaper_dry_run=True, zombie_reaper_scope="all")
    values = read_config(str(prefix / "etc/zombie-reaper/reaper.conf"))
    assert values["ladder"] == "SIGTERM:3,SIGKILL:5"
    assert values["dry_run"] is True
    names = set(o.name for o in POLICY_OPTIONS)
    policy = Policy.from_options(**{k: v for k, v in values.items() if k in names})
    assert policy.protect == ["pod:payments/*"] and policy.scope == "all"
    assert [(r.action, r.wait) for r in policy.ladder] == [("REAP", 2), ("SIGTERM", 3), ("SIGKILL", 5)]  # REAP: default


def test_cron_flavour_takes_one_lock_and_a_valid_logrotate(tmp_path):
    prefix = tmp_path / "root"
    apply_role(prefix, tmp_path, zombie_reaper_scheduler="cron", zombie_reaper_interval_minutes=2)
    cron = (prefix / "etc/cron.d/zombie-reaper").read_text()
    line = [x for x in cron.splitlines() if x.startswith("*/2 ")]
    # stderr (an error before the log opens among it) is kept, not thrown away
    assert line and line[0].endswith("; /usr/local/bin/zombie-reaper --json >/dev/null "
                                     "2>>/var/log/zombie-reaper/errors.log") and "flock" not in line[0]
    assert 'SHELL="/bin/bash"' in cron and os.stat(prefix / "etc/cron.d/zombie-reaper").st_mode & 0o777 == 0o644
    # another interval replaces the entry, it does not add one
    apply_role(prefix, tmp_path, zombie_reaper_scheduler="cron", zombie_reaper_interval_minutes=120)
    jobs = [x for x in (prefix / "etc/cron.d/zombie-reaper").read_text().splitlines() if "zombie-reaper --json" in x]
    assert len(jobs) == 1 and jobs[0].startswith("0 */2 * * * root "), jobs
    # one lock: the state file's own, which every acting run holds (a held lock: exit 3)
    config = (prefix / "etc/zombie-reaper/reaper.conf").read_text()
    assert "state_file = /var/lib/zombie-reaper/state.json" in config and "\nlock =" not in config
    assert r"RANDOM \% 61" in line[0]
    assert not (prefix / "etc/systemd/system/zombie-reaper.timer").exists()
    if shutil.which("logrotate"):
        result = subprocess.run(["logrotate", "-d", str(prefix / "etc/logrotate.d/zombie-reaper")],
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr


def test_check_mode_creates_nothing(tmp_path):
    prefix = tmp_path / "root"
    prefix.mkdir()
    stats, _output = apply_role(prefix, tmp_path, check=True, zombie_reaper_scheduler="systemd")
    assert stats["failures"] == 0
    assert files_below(prefix) == []


def test_absent_removes_everything(tmp_path):
    prefix = tmp_path / "root"
    apply_role(prefix, tmp_path, zombie_reaper_scheduler="systemd", zombie_reaper_textfile_dir="/var/lib/ne",
               zombie_reaper_alert_rules_path="/etc/prometheus/zr.rules.yml")
    (prefix / "var/lib/ne/zombie_reaper.prom").write_text("zombie_reaper_zombies 0\n")
    (prefix / "var/log/zombie-reaper/reaper.log").write_text("{}\n")
    apply_role(prefix, tmp_path, zombie_reaper_state="absent", zombie_reaper_textfile_dir="/var/lib/ne",
               zombie_reaper_alert_rules_path="/etc/prometheus/zr.rules.yml")
    assert files_below(prefix) == []
    assert not (prefix / "usr/local/lib/zombie-reaper").exists()
    assert not (prefix / "etc/zombie-reaper").exists()


SECCOMP_BACKED_DIRECTIVES = {
    "SystemCallFilter", "SystemCallArchitectures", "PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules",
    "ProtectKernelLogs", "ProtectClock", "ProtectHostname", "RestrictAddressFamilies", "RestrictNamespaces",
    "RestrictRealtime", "RestrictSUIDSGID", "LockPersonality", "MemoryDenyWriteExecute"}


def assert_exposure_within_readme(unit, label):
    """systemd-analyze's exposure of ``unit`` is at most what README's table row ``label`` promises."""
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)],
                            capture_output=True, text=True, check=False)
    measured = float(re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout).group(1))
    promised = float(re.search(r"\| %s \| \*\*(\d+\.\d)\*\* \|" % re.escape(label),
                               (ROOT / "README.md").read_text()).group(1))
    assert measured <= promised, result.stdout[-2000:]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
@pytest.mark.parametrize("variables, readme_label", [
    ({"zombie_reaper_reap": False}, "signals only (`zombie_reaper_reap: false`)"),
    ({}, "REAP (default)"),
    ({"zombie_reaper_reap_seccomp": True}, "REAP and `zombie_reaper_reap_seccomp: true`"),
])
def test_service_exposure_does_not_regress(tmp_path, variables, readme_label):
    prefix = tmp_path / "root"
    apply_role(prefix, tmp_path, zombie_reaper_scheduler="systemd", **variables)
    unit = prefix / "etc/systemd/system/zombie-reaper.service"
    settings = [line for line in unit.read_text().splitlines() if not line.startswith("#")]
    capabilities = [line for line in settings if line.startswith("AmbientCapabilities=")][0].split("=")[1].split()
    reap = variables.get("zombie_reaper_reap", True)
    seccomp = bool(variables.get("zombie_reaper_reap_seccomp"))
    assert capabilities == ["CAP_KILL"] + ["CAP_SYS_PTRACE"] * reap + ["CAP_SYS_ADMIN"] * seccomp
    assert ("OOMScoreAdjust=-1000" in settings) == reap
    assert any(line.startswith("SystemCallFilter=") for line in settings) != seccomp
    # systemd implements these with a seccomp filter, which would make the kernel refuse the suspension.
    filtered = [line for line in settings if line.split("=")[0] in SECCOMP_BACKED_DIRECTIVES]
    assert (filtered == []) == seccomp, filtered
    assert ("SystemCallFilter=ptrace process_vm_readv" in settings) == (reap and not seccomp)
    assert_exposure_within_readme(unit, readme_label)


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_watch_mode_installs_its_notify_service_beside_the_timer_and_absent_removes_it(tmp_path):
    prefix = tmp_path / "root"
    apply_role(prefix, tmp_path, zombie_reaper_scheduler="systemd", zombie_reaper_watch=True,
               zombie_reaper_rescan_seconds=120, zombie_reaper_textfile_dir="/var/lib/ne")
    units = prefix / "etc/systemd/system"
    assert sorted(p.name for p in units.iterdir()) == [
        "zombie-reaper-watch-metrics.path", "zombie-reaper-watch-metrics.service", "zombie-reaper-watch.service",
        "zombie-reaper.service", "zombie-reaper.timer"]
    unit = units / "zombie-reaper-watch.service"
    settings = [line for line in unit.read_text().splitlines() if not line.startswith("#")]
    assert "Type=notify" in settings and "WatchdogSignal=SIGTERM" in settings and "SendSIGKILL=no" in settings
    # Its own series, in a copy of its own that a root step publishes beside the timer's file (no series in both).
    assert ("ExecStart=/usr/local/bin/zombie-reaper watch --runtime-records "
            "/var/lib/zombie-reaper/runtime-records.json --textfile /var/lib/zombie-reaper/zombie_reaper_watch.prom"
            ) in settings
    assert "Wants=zombie-reaper-watch-metrics.path" in settings
    path_unit = (units / "zombie-reaper-watch-metrics.path").read_text().splitlines()
    assert "PathChanged=/var/lib/zombie-reaper/zombie_reaper_watch.prom" in path_unit
    publisher = units / "zombie-reaper-watch-metrics.service"
    assert ("ExecStart=/usr/local/bin/zombie-reaper --publish-metrics /var/lib/zombie-reaper/zombie_reaper_watch.prom"
            " --textfile /var/lib/ne/zombie_reaper_watch.prom") in publisher.read_text().splitlines()
    assert_exposure_within_readme(publisher, "watch mode's metrics publisher (root)")
    assert "AmbientCapabilities=CAP_KILL CAP_SYS_PTRACE CAP_NET_ADMIN" in settings
    assert "RestrictAddressFamilies=AF_NETLINK AF_UNIX" in settings and "PrivateNetwork=yes" not in settings
    timer_service = (units / "zombie-reaper.service").read_text().splitlines()
    assert "PrivateNetwork=yes" in timer_service and "AmbientCapabilities=CAP_KILL CAP_SYS_PTRACE" in timer_service
    assert read_config(str(prefix / "etc/zombie-reaper/reaper.conf"))["rescan_seconds"] == "120"
    assert_exposure_within_readme(unit, "watch mode (`zombie_reaper_watch: true`)")
    # Off: its units go, and its published metrics with them.
    (prefix / "var/lib/ne/zombie_reaper_watch.prom").write_text("zombie_reaper_watch_exit_events 1\n")
    apply_role(prefix, tmp_path, zombie_reaper_scheduler="systemd", zombie_reaper_textfile_dir="/var/lib/ne")
    assert sorted(p.name for p in units.iterdir()) == ["zombie-reaper.service", "zombie-reaper.timer"]
    assert not (prefix / "var/lib/ne/zombie_reaper_watch.prom").exists()
    # Without a textfile directory: the watch alone, writing no metrics, no publisher; absent: everything goes.
    apply_role(prefix, tmp_path, zombie_reaper_scheduler="systemd", zombie_reaper_watch=True,
               zombie_reaper_textfile_dir="")
    assert sorted(p.name for p in units.iterdir()) == [
        "zombie-reaper-watch.service", "zombie-reaper.service", "zombie-reaper.timer"]
    assert ("ExecStart=/usr/local/bin/zombie-reaper watch --runtime-records "
            "/var/lib/zombie-reaper/runtime-records.json --textfile=") in unit.read_text().splitlines()
    apply_role(prefix, tmp_path, zombie_reaper_state="absent", zombie_reaper_textfile_dir="/var/lib/ne")
    assert files_below(prefix) == []


def test_watch_mode_without_systemd_fails_the_deploy_and_says_why(tmp_path):
    _stats, output = apply_role(tmp_path / "root", tmp_path, fails=True, zombie_reaper_scheduler="cron",
                                zombie_reaper_watch=True)
    assert "zombie_reaper_watch needs systemd" in json.dumps(output)


def run_playbook(name, *extra):
    inventory = "localhost ansible_connection=local ansible_python_interpreter=auto_silent,"
    result = subprocess.run(["ansible-playbook", "-i", inventory, str(ROOT / "playbooks" / name)] + list(extra),
                            cwd=ROOT, env=dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="default",
                                               ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_SHOW_CUSTOM_STATS="1"),
                            capture_output=True, text=True, timeout=300, check=False)
    return result


def test_audit_and_reap_playbooks_print_a_fleet_table(spawn):
    tenant = spawn("--zombies", 4, namespace=True)
    audit = run_playbook("audit.yml", "-e", "zombie_reaper_hosts=localhost")
    assert audit.returncode == 0, audit.stdout[-3000:]
    # the whole machine is audited: its other zombie parents may show too (the tenant is one of them)
    assert "TOP OFFENDERS" in audit.stdout and "eligible=" in audit.stdout, audit.stdout[-3000:]
    gate = run_playbook("audit.yml", "-e", "zombie_reaper_hosts=localhost", "-e", "audit_max_zombies=0")
    assert gate.returncode != 0 and "zombies (max 0)" in gate.stdout
    args = json.dumps({"zombie_reaper_hosts": "localhost",
                       "reap_args": {"limit_subtree": tenant.sandbox_pid, "confirm_seconds": 0.2,
                                     "restart_container_init": "always", "reap": False}})
    reap = run_playbook("reap.yml", "-e", args)
    assert reap.returncode == 0, reap.stdout[-3000:]
    assert "parent_exited=1" in reap.stdout
    assert not tenant.alive()
    # The same summary as data for the next step of an AWX/AAP workflow (set_stats).
    for run in (audit, reap):
        stats = json.loads(re.search(r"RUN: (\{.*\})\s*$", run.stdout, re.S).group(1))["zombie_reaper_fleet"]
        assert set(stats["hosts"]) == {"localhost"} and stats["failed_hosts"] == []
        assert stats["zombies"] == stats["hosts"]["localhost"]["zombies"] >= 4
    assert stats["mode"] == "reap" and stats["container_restarts"] == 1 and stats["zombies_cleared"] >= 4


def test_reap_playbook_passes_every_module_option_and_refuses_others():
    task = [t for t in yaml.safe_load((ROOT / "playbooks" / "reap.yml").read_text())[1]["tasks"]
            if "fleetops.zombie_reaper.zombie_reap" in t][0]
    assert set(task["fleetops.zombie_reaper.zombie_reap"]) == set(module_argument_spec(acting=True))
    result = run_playbook("reap.yml", "-e", json.dumps({"zombie_reaper_hosts": "localhost",
                                                        "reap_args": {"min_zombie": 3}}))
    assert result.returncode != 0 and "not understood: min_zombie" in result.stdout, result.stdout[-2000:]
    quiet = run_playbook("reap.yml", "--check", "-e", json.dumps({
        "zombie_reaper_hosts": "localhost", "reap_args": {"limit_subtree": os.getpid(), "ladder": "SIGTERM:1"}}))
    assert quiet.returncode == 0, quiet.stdout[-2000:]
    assert "Using a template for task args" not in quiet.stdout + quiet.stderr


@pytest.mark.parametrize("name", ["audit.yml", "reap.yml", "deploy.yml", "remove.yml"])
def test_a_host_pattern_that_matches_nothing_fails_the_playbook(name):
    result = run_playbook(name, "-e", "zombie_reaper_hosts=kube_node")  # kubespray's group, absent here
    assert result.returncode != 0
    assert "zombie_reaper_hosts 'kube_node' matches no host of this inventory" in result.stdout, result.stdout[-2000:]


def test_a_kubespray_inventory_is_audited_by_its_kube_node_group(tmp_path):
    """kubespray's layout (kube_node and kube_control_plane under k8s_cluster), run by the installed name."""
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text(textwrap.dedent("""\
        all:
          children:
            k8s_cluster:
              children:
                kube_control_plane:
                  hosts: {}
                kube_node:
                  hosts:
                    node1: {ansible_connection: local, ansible_python_interpreter: /usr/bin/python3}
        """))
    playbook = tmp_path / "audit.yml"
    playbook.write_text("- name: Audit\n  ansible.builtin.import_playbook: fleetops.zombie_reaper.audit\n")
    result = subprocess.run(["ansible-playbook", "-i", str(inventory), str(playbook), "-e", "zombie_reaper_hosts=kube_node"],
                            cwd=ROOT, env=dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="default",
                                               ANSIBLE_CALLBACK_RESULT_FORMAT="json"), capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0 and "TOP OFFENDERS" in result.stdout and "node1" in result.stdout, result.stdout[-3000:]


def test_reap_playbook_stops_once_the_fleet_restart_budget_is_spent(spawn):
    tenant = spawn("--zombies", 3, namespace=True)
    spared = spawn("--zombies", 3, namespace=True)
    reap_args = {"limit_subtree": tenant.sandbox_pid, "confirm_seconds": 0.2, "restart_container_init": "always",
                 "reap": False}
    bad = run_playbook("reap.yml", "-e", json.dumps({"zombie_reaper_hosts": "localhost", "reap_restart_budget": "many",
                                                     "reap_args": dict(reap_args, limit_subtree=spared.sandbox_pid)}))
    assert bad.returncode != 0 and "reap_restart_budget must be a whole number" in bad.stdout, bad.stdout[-3000:]
    assert spared.alive() and len(spared.zombies()) == 3  # refused before anything ran
    reap = run_playbook("reap.yml", "-e", json.dumps({"zombie_reaper_hosts": "localhost", "reap_restart_budget": 0,
                                                      "reap_args": reap_args}))
    assert reap.returncode != 0, reap.stdout[-3000:]
    assert "1 container restart(s) so far, more than reap_restart_budget 0" in reap.stdout, reap.stdout[-3000:]
    assert "localhost: " in reap.stdout and "(pid %d, " % tenant.pid in reap.stdout
    assert not tenant.alive() and spared.alive()


@pytest.mark.parametrize("extra", [[], ["-e", "reap_check=false"]], ids=["check", "check-and-reap_check-false"])
def test_reap_playbook_in_check_mode_signals_and_reaps_nothing(spawn, extra):
    killed_by_a_real_run = spawn("--zombies", 3, namespace=True)
    reaped_by_a_real_run = spawn("--zombies", 3, namespace=True)
    for tenant, options in ((killed_by_a_real_run, {"restart_container_init": "always", "reap": False}),
                            (reaped_by_a_real_run, {"reap_min_age_seconds": 0})):
        args = json.dumps({"zombie_reaper_hosts": "localhost",
                           "reap_args": dict(limit_subtree=tenant.sandbox_pid, confirm_seconds=0.2, **options)})
        before = tenant.zombies()
        reap = run_playbook("reap.yml", "--check", "-e", args, *extra)
        assert reap.returncode == 0, reap.stdout[-3000:]
        assert "would_signal=1" in reap.stdout or "would_reap=1" in reap.stdout, reap.stdout[-3000:]
        assert tenant.alive() and tenant.zombies() == before  # nothing signalled, nothing reaped


def test_deploy_and_remove_playbooks_on_a_staged_root(tmp_path):
    prefix = tmp_path / "root"
    variables = json.dumps({"zombie_reaper_hosts": "localhost", "zombie_reaper_root_prefix": str(prefix),
                            "zombie_reaper_scheduler": "cron"})
    deploy = run_playbook("deploy.yml", "-e", variables)
    assert deploy.returncode == 0, deploy.stdout[-3000:]
    assert (prefix / "etc/cron.d/zombie-reaper").exists()
    remove = run_playbook("remove.yml", "-e", variables)
    assert remove.returncode == 0, remove.stdout[-3000:]
    assert files_below(prefix) == []


def role_variables_table():
    """The role README's variables table, as meta/argument_specs.yml has it (first description item)."""
    specs = yaml.safe_load((ROOT / "roles" / "reaper" / "meta" / "argument_specs.yml").read_text())
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, spec in specs["argument_specs"]["main"]["options"].items():
        default = spec.get("default")
        if isinstance(default, bool):
            shown = "true" if default else "false"
        elif isinstance(default, (list, dict)):
            shown = yaml.safe_dump(default, default_flow_style=True, width=1000).strip()
        else:
            shown = "(none)" if default is None else str(default)
        description = spec["description"]
        first = " ".join(str(description[0] if isinstance(description, list) else description).split())
        rows.append("| `%s` | `%s` | %s |" % (name, shown, first.replace("|", "\\|")))
    return "\n".join(rows) + "\n"


def test_role_readme_lists_every_variable_with_its_default():
    table = role_variables_table()
    assert table in (ROOT / "roles" / "reaper" / "README.md").read_text(), (
        "roles/reaper/README.md differs from meta/argument_specs.yml; its table should be:\n" + table)


@pytest.mark.parametrize("layout", ["var/lib/prometheus/node-exporter", "var/lib/node_exporter"])
def test_metrics_go_where_node_exporter_reads_on_either_layout(tmp_path, layout):
    prefix = tmp_path / "root"
    (prefix / layout).mkdir(parents=True)
    os.chmod(prefix / layout, 0o755)
    apply_role(prefix, tmp_path, zombie_reaper_scheduler="systemd")
    config = read_config(str(prefix / "etc/zombie-reaper/reaper.conf"))
    assert config["textfile"] == "/%s/zombie_reaper.prom" % layout
    assert os.stat(prefix / layout).st_mode & 0o777 == 0o755  # the directory is left as it is


def test_a_textfile_directory_reached_through_a_link_is_used(tmp_path):
    prefix = tmp_path / "root"
    (prefix / "srv/textfile").mkdir(parents=True)
    (prefix / "var/lib").mkdir(parents=True)
    (prefix / "var/lib/node_exporter").symlink_to(prefix / "srv/textfile")
    apply_role(prefix, tmp_path, zombie_reaper_scheduler="systemd")
    assert read_config(str(prefix / "etc/zombie-reaper/reaper.conf"))["textfile"] == \
        "/var/lib/node_exporter/zombie_reaper.prom"
    assert (prefix / "var/lib/node_exporter").is_symlink()  # left as it is


def test_no_node_exporter_directory_means_no_metrics_said_plainly(tmp_path):
    prefix = tmp_path / "root"
    _stats, output = apply_role(prefix, tmp_path, zombie_reaper_scheduler="systemd")
    assert "textfile" not in read_config(str(prefix / "etc/zombie-reaper/reaper.conf"))
    assert "no metrics are written" in json.dumps(output)
    assert "--publish-metrics" not in (prefix / "etc/systemd/system/zombie-reaper.service").read_text()


def test_a_textfile_path_that_cannot_work_fails_the_deploy(tmp_path):
    prefix = tmp_path / "root"
    (prefix / "var/lib").mkdir(parents=True)
    (prefix / "var/lib/ne").write_text("a file, not a directory\n")
    _stats, output = apply_role(prefix, tmp_path, fails=True, zombie_reaper_textfile_dir="/var/lib/ne")
    assert "exists and is not a directory" in json.dumps(output)
    _stats, output = apply_role(prefix, tmp_path, fails=True, zombie_reaper_textfile_dir="relative/dir")
    assert "must be auto" in json.dumps(output)


def test_audit_lists_hosts_it_could_not_read_with_the_reason_and_fails_them(tmp_path):
    """An unreachable node and a node without Python 3 are rows of the table; the rest of the fleet is audited."""
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(textwrap.dedent("""\
        [workers]
        node-ok ansible_connection=local ansible_python_interpreter=/usr/bin/python3
        node-without-python ansible_connection=local ansible_python_interpreter=/nonexistent/python3
        # no network is touched: ssh's ProxyCommand fails before any connection
        node-unreachable ansible_host=node-unreachable.invalid ansible_ssh_common_args='-o ProxyCommand=false'
        """))
    result = subprocess.run(["ansible-playbook", "-i", str(inventory), str(ROOT / "playbooks" / "audit.yml")],
                            cwd=ROOT, env=dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="default",
                                               ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_SHOW_CUSTOM_STATS="1"),
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode != 0, result.stdout[-3000:]
    table = [line for line in result.stdout.splitlines() if re.match(r'\s*"node-', line)]
    rows = {json.loads(line.strip().rstrip(","))[:24].strip(): json.loads(line.strip().rstrip(","))[24:].strip()
            for line in table}
    assert set(rows) == {"node-ok", "node-without-python", "node-unreachable"}, result.stdout[-3000:]
    assert re.match(r"\d+ +\d+ +[\d.]+ ", rows["node-ok"]), rows
    assert rows["node-without-python"].startswith("FAILED: ") and len(rows["node-without-python"]) > 10, rows
    assert rows["node-unreachable"].startswith("UNREACHABLE: "), rows
    stats = json.loads(re.search(r"RUN: (\{.*\})\s*$", result.stdout, re.S).group(1))["zombie_reaper_fleet"]
    assert sorted(stats["failed_hosts"]) == ["node-unreachable", "node-without-python"]
    assert "node-without-python could not be audited: " in result.stdout
    assert re.search(r"node-ok\s*: ok=\d+ .*failed=0", result.stdout), result.stdout[-1500:]
