"""The engine against real processes this test creates (always inside its own sandbox)."""

import json
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import HELPERS, MODULE_UTILS, NODE_COMMAND, ROOT, alive, kill_groups, parent_entry, policy, wait_until
from zombie_reaper import engine
from zombie_reaper import pidfd
from zombie_reaper.report import exit_code_for
from zombie_reaper.scan import scan_procfs, scan_psutil

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for PID namespaces")


def test_non_reaping_parent_is_found_exactly(spawn):
    tenant = spawn("--zombies", 7)
    report = engine.run(policy(limit_subtree=tenant.pid, scope="all"), mode="info")
    entry = parent_entry(report, tenant.pid)
    assert report["zombies"] == 7
    assert entry["zombies"] == 7
    assert entry["zombie_pids"] == tenant.zombies()
    assert entry["zombie_names"] == {"sshd": 7}
    assert entry["class"] == "host_process"
    assert entry["starttime"] == tenant.starttime
    assert entry["outcome"] == "eligible"
    assert report["signals_sent"] == 0


def test_dry_run_signals_nothing(spawn):
    tenant = spawn("--zombies", 4, "--reap-on-sigchld")
    zombies = tenant.zombies()
    report = engine.run(policy(limit_subtree=tenant.pid, scope="all"), dry_run=True)
    entry = parent_entry(report, tenant.pid)
    assert entry["outcome"] == "would_signal"
    assert [s["signal"] for s in entry["signals"]] == ["SIGCHLD", "SIGTERM", "SIGKILL"]
    assert all(s["result"] == "would_send" for s in entry["signals"])
    assert report["signals_sent"] == 0
    time.sleep(0.3)  # a SIGCHLD, had one been sent, would have made it reap by now
    assert tenant.alive()
    assert tenant.zombies() == zombies


def test_sigchld_rung_makes_a_live_parent_reap(spawn):
    tenant = spawn("--zombies", 5, "--reap-on-sigchld")
    report = engine.run(policy(limit_subtree=tenant.pid, scope="all"))
    entry = parent_entry(report, tenant.pid)
    assert entry["outcome"] == "reaped"
    assert [s["signal"] for s in entry["signals"]] == ["SIGCHLD"]
    assert tenant.alive()
    assert tenant.zombies() == []
    assert report["zombies_cleared"] == 5


def test_parent_ignoring_sigterm_needs_sigkill(spawn):
    tenant = spawn("--zombies", 3, "--ignore-term")
    report = engine.run(policy(limit_subtree=tenant.pid, scope="all"))
    entry = parent_entry(report, tenant.pid)
    assert entry["outcome"] == "parent_exited"
    assert [s["signal"] for s in entry["signals"]] == ["SIGKILL"]
    skipped = {s["signal"]: s["reason"] for s in entry["skipped_rungs"]}
    assert "not caught" in skipped["SIGCHLD"]
    assert "ignored" in skipped["SIGTERM"]
    assert not tenant.alive()
    assert exit_code_for(report) == 0


def test_parent_catching_sigterm_gets_it_then_sigkill(spawn):
    tenant = spawn("--zombies", 2, "--catch-term")
    started = time.monotonic()
    report = engine.run(policy(limit_subtree=tenant.pid, scope="all", ladder="SIGTERM:0.5,SIGKILL:3"))
    entry = parent_entry(report, tenant.pid)
    assert [s["signal"] for s in entry["signals"]] == ["SIGTERM", "SIGKILL"]
    assert entry["outcome"] == "parent_exited"
    assert time.monotonic() - started < 4


def test_parent_that_reaps_within_a_second_is_never_signalled(spawn):
    tenant = spawn("--zombies", 3, "--reap-after", 0.5)
    report = engine.run(policy(limit_subtree=tenant.pid, scope="all", confirm_seconds=1.5))
    entry = parent_entry(report, tenant.pid)
    assert entry["outcome"] == "unconfirmed"
    assert entry["signals"] == []
    assert report["signals_sent"] == 0
    assert tenant.alive()


def test_hostile_parent_name_is_handled(spawn):
    name = "a b) c (d"
    tenant = spawn("--zombies", 3, "--name", name, "--ignore-term")
    report = engine.run(policy(limit_subtree=tenant.pid, scope="all"))
    entry = parent_entry(report, tenant.pid)
    assert entry["comm"] == name
    assert entry["zombies"] == 3
    assert entry["outcome"] == "parent_exited"


def test_tenant_pid_namespace_is_a_container_init_and_is_cleared(spawn):
    tenant = spawn("--zombies", 6, "--every", 0.2, namespace=True)
    report = engine.run(policy(limit_subtree=tenant.sandbox_pid, confirm_seconds=0.3))
    entry = parent_entry(report, tenant.pid)
    assert entry["class"] == "container_init"
    assert entry["container"]["pid_in_container"] == 1
    assert entry["zombies"] >= 6
    skipped = {s["signal"]: s["reason"] for s in entry["skipped_rungs"]}
    assert "namespace init" in skipped["SIGTERM"]
    assert [s["signal"] for s in entry["signals"]] == ["SIGKILL"]
    assert entry["outcome"] == "parent_exited"
    assert wait_until(lambda: not tenant.alive())


def test_host_processes_are_out_of_scope_by_default(spawn):
    tenant = spawn("--zombies", 2)
    report = engine.run(policy(limit_subtree=tenant.pid))
    assert parent_entry(report, tenant.pid)["outcome"] == "out_of_scope"
    assert report["signals_sent"] == 0
    assert tenant.alive() and len(tenant.zombies()) == 2


def test_protected_parent_does_not_block_the_others(spawn):
    shim = spawn("--zombies", 2, "--name", "containerd-shim")
    tenant = spawn("--zombies", 3, "--ignore-term")
    sshd = spawn("--zombies", 1, "--name", "sshd")
    # One run over all three sandboxes: the runtime and the daemon are reported, the tenant handled.
    options = dict(scope="all", protect=["sshd"])
    reports = [engine.run(policy(limit_subtree=t.pid, **options)) for t in (shim, tenant, sshd)]
    assert parent_entry(reports[0], shim.pid)["class"] == "container_runtime"
    assert parent_entry(reports[0], shim.pid)["outcome"] == "protected"
    assert parent_entry(reports[1], tenant.pid)["outcome"] == "parent_exited"
    assert parent_entry(reports[2], sshd.pid)["class"] == "protected_daemon"
    assert shim.alive() and len(shim.zombies()) == 2
    assert sshd.alive() and len(sshd.zombies()) == 1


def test_one_run_handles_every_parent_and_skips_protected_ones(spawn):
    outer = spawn("--zombies", 2, "--name", "containerd-shim", "--nested-zombies", 3)
    report = engine.run(policy(limit_subtree=outer.pid, scope="all", ladder="SIGKILL:3"))
    assert parent_entry(report, outer.pid)["outcome"] == "protected"
    nested = parent_entry(report, outer.nested_pid)
    # The nested parent dies; its zombies skip the shim (no subreaper) and the sandbox reaps them.
    assert nested["class"] == "host_process"
    assert nested["outcome"] == "parent_exited"
    # the shim's own two zombies, plus the killed nested parent that it does not reap either
    assert sorted(outer.zombies()) == sorted(parent_entry(report, outer.pid)["zombie_pids"] + [outer.nested_pid])
    assert outer.alive()


def test_zombies_adopted_by_a_non_reaping_subreaper_are_reported(spawn):
    outer = spawn("--zombies", 0, "--subreaper", "--nested-zombies", 4, "--name", "lazy-init")
    report = engine.run(policy(limit_subtree=outer.nested_pid, scope="all", ladder="SIGKILL:2"))
    entry = parent_entry(report, outer.nested_pid)
    assert entry["outcome"] == "reparented_defunct"
    assert entry["reparented_to"] == [outer.pid]
    assert sorted(outer.zombies()) == sorted(entry["zombie_pids"] + [outer.nested_pid])
    assert exit_code_for(report) == 1


def test_min_age_needs_the_zombie_seen_in_an_earlier_run(spawn, tmp_path):
    state_file = str(tmp_path / "state.json")
    tenant = spawn("--zombies", 2, "--ignore-term")
    options = dict(limit_subtree=tenant.pid, scope="all", state_file=state_file, min_age_seconds=0.5)
    first = engine.run(policy(**options))
    assert parent_entry(first, tenant.pid)["outcome"] == "too_young"
    assert tenant.alive()
    time.sleep(0.6)
    second = engine.run(policy(**options))
    assert parent_entry(second, tenant.pid)["outcome"] == "parent_exited"


def test_max_parents_defers_the_rest_worst_first(spawn):
    outer = spawn("--zombies", 2, "--nested-zombies", 5)
    report = engine.run(policy(limit_subtree=outer.pid, scope="all", max_parents=1, ladder="SIGKILL:2"))
    assert parent_entry(report, outer.nested_pid)["outcome"] == "parent_exited"
    deferred = parent_entry(report, outer.pid)
    assert deferred["outcome"] == "deferred"
    assert deferred["signals"] == []
    assert outer.alive()
    assert sorted(outer.zombies()) == sorted(deferred["zombie_pids"] + [outer.nested_pid])


def test_identity_check_refuses_a_reused_pid(spawn):
    tenant = spawn("--zombies", 1)
    result = pidfd.send_signal("/proc", tenant.pid, tenant.starttime + 1, 9)
    assert result == "identity_changed"
    assert tenant.alive()
    assert pidfd.send_signal("/proc", tenant.pid, tenant.starttime, 0) == "sent"


def test_psutil_backend_agrees_with_procfs(spawn):
    """Both backends see the same zombies and parentage for the processes this test made. Nothing about the
    rest of the table is compared: other work on the machine forks and exits between the two scans."""
    pytest.importorskip("psutil")
    tenants = [spawn("--zombies", n) for n in (2, 5)]
    by_procfs = scan_procfs("/proc", want_ppids=True)
    by_psutil = scan_psutil("/proc", want_ppids=True)
    for tenant in tenants:
        ours = {(z.pid, z.starttime, z.comm) for z in by_procfs.zombies_by_parent[tenant.pid]}
        theirs = {(z.pid, z.starttime, z.comm) for z in by_psutil.zombies_by_parent[tenant.pid]}
        assert ours == theirs
        assert len(ours) == len(tenant.zombies())
        mine = [tenant.sandbox_pid, tenant.pid] + [pid for pid, _start, _comm in ours]
        assert [by_procfs.ppid_of[pid] for pid in mine] == [by_psutil.ppid_of[pid] for pid in mine]
        assert by_procfs.ppid_of[tenant.pid] == tenant.sandbox_pid


def test_psutil_backend_runs_the_whole_pipeline(spawn):
    pytest.importorskip("psutil")
    tenant = spawn("--zombies", 3, "--reap-on-sigchld")
    report = engine.run(policy(limit_subtree=tenant.pid, scope="all", backend="psutil"))
    assert parent_entry(report, tenant.pid)["outcome"] == "reaped"


# --- the node command -------------------------------------------------------


def node_command(*args, **kwargs):
    return subprocess.run(NODE_COMMAND + [str(a) for a in args],
                          capture_output=True, text=True, timeout=60, check=False, **kwargs)


# The node command, reporting on stderr which of the costly modules it loaded.
LOADS_PROBE = ("import sys; sys.path.insert(0, %r); from zombie_reaper.cli import main; code = main(); "
               "sys.stderr.write('loaded: %%s\\n' %% ' '.join(m for m in ('ctypes', 'argparse', 'configparser') "
               "if m in sys.modules)); raise SystemExit(code)")


@pytest.mark.parametrize("args, outcome, loaded", [
    (["--info"], "eligible", ""),
    (["--no-reap", "--ladder", "SIGKILL:3", "--restart-container-init", "always"], "parent_exited", ""),
    (["--reap-min-age-seconds", "0"], "reaped", "ctypes"),
], ids=["info", "signals-only", "reap"])
def test_only_a_reap_loads_ctypes(spawn, args, outcome, loaded):
    tenant = spawn("--zombies", 2, namespace=True)
    command = [sys.executable, "-I", "-S", "-c", LOADS_PROBE % str(MODULE_UTILS), "--json", "--limit-subtree",
               str(tenant.sandbox_pid), "--confirm-seconds", "0"] + args
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    entry = parent_entry(json.loads(result.stdout), tenant.pid)
    assert entry["outcome"] == outcome
    if args == ["--info"]:
        assert entry["reap_refusal"] == ""  # the REAP pre-check ran, without ctypes
    assert result.stderr.splitlines()[-1] == "loaded: " + loaded


def test_the_psutil_backend_works_from_the_node_command_without_site_packages(spawn):
    pytest.importorskip("psutil")
    tenant = spawn("--zombies", 2)
    result = node_command("--info", "--json", "--backend", "psutil", "--scope", "all", "--limit-subtree", tenant.pid)
    assert result.returncode == 0, result.stderr  # python3 -S: the backend loads site-packages when chosen
    assert parent_entry(json.loads(result.stdout), tenant.pid)["zombies"] == 2


def test_node_command_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "zombie_reaper.cli", "--version"], cwd=MODULE_UTILS,
                            capture_output=True, text=True, timeout=60, check=False)
    galaxy = re.search(r"^version: (\S+)$", (ROOT / "galaxy.yml").read_text(), re.M).group(1)
    assert result.returncode == 0 and result.stdout == "zombie-reaper %s\n" % galaxy, result  # one version


def test_node_command_reaps_logs_and_prints_a_summary(spawn, tmp_path):
    tenant = spawn("--zombies", 4, namespace=True)
    log = tmp_path / "reaper.log"
    result = node_command("--no-reap", "--limit-subtree", tenant.sandbox_pid, "--confirm-seconds", "0.2",
                          "--ladder", "SIGCHLD:1,SIGTERM:1,SIGKILL:3", "--restart-container-init", "always", "--log", log)
    assert result.returncode == 0, result.stderr
    assert "container_init" in result.stdout and "parent_exited" in result.stdout, result.stdout
    lines = log.read_text().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["parents"][0]["outcome"] == "parent_exited"
    # appended, not overwritten
    node_command("--info", "--limit-subtree", tenant.sandbox_pid, "--log", log)
    assert len(log.read_text().splitlines()) == 2


def test_node_command_json_dry_run(spawn):
    tenant = spawn("--zombies", 2, namespace=True)
    result = node_command("--json", "--dry-run", "--no-reap", "--limit-subtree", tenant.sandbox_pid,
                          "--confirm-seconds", "0", "--restart-container-init", "always")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["mode"] == "dry_run"
    assert parent_entry(report, tenant.pid)["outcome"] == "would_signal"
    assert tenant.alive()


def test_node_command_lock_refuses_a_second_run(tmp_path):
    lock = tmp_path / "lock"
    import fcntl  # pylint: disable=import-outside-toplevel
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = node_command("--info", "--lock", lock)
    assert result.returncode == 3
    assert "another zombie-reaper run holds" in result.stderr


def test_node_command_without_rights_refuses_and_signals_nothing(spawn):
    tenant = spawn("--zombies", 2, "--ignore-term")
    command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
               "--bounding-set=-all", *NODE_COMMAND, "--scope", "all", "--limit-subtree",
               str(tenant.pid), "--confirm-seconds", "0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 4, (result.stdout, result.stderr)
    assert "no right to signal pid %d" % tenant.pid in result.stderr
    assert tenant.alive() and len(tenant.zombies()) == 2


@pytest.mark.parametrize("args, message", [
    (["--ladder", "SIGFOO:3"], "unknown signal 'SIGFOO'"),
    (["--ladder", "SIGTERM"], "must be SIGNAL:SECONDS"),
    (["--ladder", "SIGTERM:-1"], "wait of ladder rung SIGTERM must be zero or more"),
    (["--confirm-seconds", "soon"], "confirm_seconds must be a number of seconds, got 'soon'"),
    (["--min-zombies", "0"], "min_zombies must be at least 1"),
    (["--scope", "everything"], "scope must be one of containers|all"),
    (["--backend", "ps"], "backend must be one of procfs|psutil"),
    (["--ladder", "SIGCHLD:1,REAP:2"], "REAP must be the first rung"),
    (["--reap-min-age-seconds", "old"], "reap_min_age_seconds must be a number"),
    # options that used to mean something else silently (issue: fail closed)
    (["--protect", "contianer:abcd"], "unknown kind 'contianer'"),
    (["--protect", "svc:*"], "unknown kind 'svc'"),
    (["--protect", "pod:"], "empty after its kind"),
    (["--ladder", ""], "ladder is empty"),
    (["--ladder", " , "], "ladder is empty"),
    (["--limit-container", "abc"], "at least 4 characters"),
    (["--ladder", "SIGCHLD:1e12"], "at most 600 seconds"),
    (["--confirm-seconds", "1e18"], "confirm_seconds must be at most 600"),
    (["--confirm-seconds", "1e9"], "confirm_seconds must be at most 600"),
    (["--reap", "--reap-min-age-seconds", "3600"], "without state_file the confirming scan waits"),
    (["--container-init-cooldown", "1e12"], "at most 2.592e+06 seconds"),
    (["--dry"], "unknown argument '--dry'"),
    (["--restart-pressure-percent", "0"], "above 0 and at most 100"),  # 0% would make every container "full"
    (["--restart-pressure-percent", "101"], "above 0 and at most 100"),
    (["--restart-pressure-percent", "ninety"], "restart_pressure_percent must be a percentage"),
    (["--restart-time-left-seconds", "-1"], "restart_time_left_seconds must be zero or more"),
    (["--restart-time-left-seconds", "soon"], "restart_time_left_seconds must be a number"),
    (["--restart-time-left-seconds", "1e18"], "restart_time_left_seconds must be at most"),
    (["--restart-budget", "-1"], "restart_budget must be at least 0"),
    (["--restart-budget", "1.5"], "restart_budget must be a whole number"),
    (["--restart-budget", "many"], "restart_budget must be a whole number"),
    (["--restart-container-init", "sometimes"], "must be one of never|on_pressure|always"),
    (["--no-reap=yes"], "--no-reap takes no value"),
])
def test_node_command_rejects_bad_values(args, message):
    result = node_command("--dry-run", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_node_command_rejects_a_malformed_config(tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("[reaper]\nmin_zombies = 1\nsurprise = yes\n")
    result = node_command("--config", bad, "--dry-run")
    assert result.returncode == 2 and "unknown key 'surprise'" in result.stderr
    bad.write_text("no section here\n")
    result = node_command("--config", bad, "--dry-run")
    assert result.returncode == 2 and "malformed config file" in result.stderr


@pytest.mark.parametrize("content, message", [
    (b"[reaper]\nladder =\n", "ladder is empty"),
    (b"\x7fELF\x02\x01\x01\x00\xff\xfe\x00", "not UTF-8 text"),
])
def test_node_command_refuses_a_config_that_cannot_be_understood(tmp_path, content, message):
    bad = tmp_path / "bad.conf"
    bad.write_bytes(content)
    result = node_command("--config", bad, "--dry-run")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_name_glob_with_a_colon_protects_when_spelled_as_one(spawn):
    tenant = spawn("--zombies", 2, "--name", "svc:worker")
    options = dict(limit_subtree=tenant.pid, scope="all", ladder="SIGCHLD:0.2,SIGTERM:0.2")
    entry = parent_entry(engine.run(policy(protect=["name:svc:*"], **options)), tenant.pid)
    assert entry["outcome"] == "protected" and entry["signals"] == [], entry
    assert tenant.alive() and len(tenant.zombies()) == 2


def test_node_command_reads_its_config(spawn, tmp_path):
    tenant = spawn("--zombies", 2, "--ignore-term")
    config = tmp_path / "reaper.conf"
    config.write_text("# managed\n[reaper]\nscope = all\nconfirm_seconds = 0\nladder = SIGKILL:3\ndry_run = true\n"
                      "reap = false\n")
    result = node_command("--config", config, "--json", "--limit-subtree", tenant.pid)
    report = json.loads(result.stdout)
    assert report["mode"] == "dry_run" and report["policy"]["scope"] == "all"
    assert parent_entry(report, tenant.pid)["signals"] == [{"signal": "SIGKILL", "result": "would_send"}]


def test_a_name_cannot_forge_lines_of_the_summary_or_the_journal(spawn):
    tenant = spawn("--zombies", 2, "--name", "\nsignals sent:9")
    result = node_command("--limit-subtree", tenant.pid, "--scope", "all", "--confirm-seconds", "0",
                          "--ladder", "SIGKILL:2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines() + result.stderr.splitlines()
    assert not [line for line in lines if line.startswith("signals sent:9")], lines
    assert "\\nsignals sent:9" in result.stdout and "(\\nsignals sent:9)" in result.stderr


# A parent holding zombies that starts the node command in a new PID namespace, with the host's /proc
# (as a containerised reaper would see it): the command's own ancestor must stay untouched.
ANCESTOR = """
import json, os, subprocess, sys
for _ in range(2):
    if os.fork() == 0:
        os._exit(0)
command = ["unshare", "--pid", "--fork"] + json.loads(sys.argv[1]) + [
    "--json", "--scope", "all", "--confirm-seconds", "0", "--ladder", "SIGKILL:1", "--limit-subtree", str(os.getpid())]
done = subprocess.run(command, capture_output=True, text=True)
print(json.dumps({"pid": os.getpid(), "rc": done.returncode, "out": done.stdout, "err": done.stderr}), flush=True)
"""


def test_a_reaper_in_another_pid_namespace_knows_its_own_ancestors(tmp_path):
    script = tmp_path / "ancestor.py"
    script.write_text(ANCESTOR)
    popen = subprocess.Popen([sys.executable, str(HELPERS / "sandbox.py"), sys.executable, str(script),
                              json.dumps(NODE_COMMAND)], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = popen.stdout.readline()
        assert line, "the ancestor was killed: its own reaper signalled it"
        done = json.loads(line)
        assert done["rc"] == 0, done["err"]
        entry = parent_entry(json.loads(done["out"]), done["pid"])
        assert entry["class"] == "reaper" and entry["outcome"] == "protected", entry
    finally:
        kill_groups([popen])


def test_node_command_unreadable_proc_is_a_clear_error(tmp_path):
    result = node_command("--proc", tmp_path / "nothing", "--dry-run")
    assert result.returncode == 4
    assert "cannot read" in result.stderr and "nothing" in result.stderr


def test_corrupt_state_file_is_reported_and_replaced(spawn, tmp_path):
    state_file = tmp_path / "state.json"
    state_file.write_text("{not json")
    tenant = spawn("--zombies", 1)
    report = engine.run(policy(limit_subtree=tenant.pid, state_file=str(state_file)))
    assert any("corrupt" in w for w in report["warnings"])
    assert json.loads(state_file.read_text())["version"] == 3
    assert alive(tenant.pid)
