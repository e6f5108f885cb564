"""The role on a booted systemd node: the hardened timer service clears the defunct-sshd case."""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
import node  # noqa: E402  pylint: disable=wrong-import-position

README = Path(__file__).resolve().parents[3] / "README.md"


def test_timer_is_enabled_with_its_randomized_delay(host):
    timer = host.service("zombie-reaper.timer")
    assert timer.is_enabled and timer.is_running
    assert "RandomizedDelaySec=60" in host.file("/etc/systemd/system/zombie-reaper.timer").content_string
    # held by the scenario (prepare) so that no timer run races the verifier's own run
    assert "hold-for-verify.conf" in host.check_output("systemctl cat zombie-reaper.timer")
    assert node.reports(host) == [], "a timer run acted before the verifier"


def test_service_reaps_the_leaky_tenant_in_place_and_holds_the_refused_one(host):
    leaky = node.wait_until(lambda: node.tenant_pid(host, "leaky-tenant"))
    stopped = node.wait_until(lambda: node.tenant_pid(host, "stopped-tenant"))
    assert leaky and stopped
    before = node.wait_until(lambda: len(node.sshd_zombies(host, leaky)) >= 3 and node.sshd_zombies(host, leaky))
    stopped_zombies = node.sshd_zombies(host, stopped)
    assert stopped_zombies, "the stopped tenant made no zombies before it was stopped"
    leaky_start = node.starttime(host, leaky)
    runs_before = len(node.reports(host))

    host.run_test("systemctl start zombie-reaper.service")

    reports = node.reports(host)
    assert len(reports) == runs_before + 1, "the run did not log its JSON report"
    report = reports[-1]
    entry = node.entry_for(report, leaky)
    assert entry["class"] == "container_init"
    assert entry["outcome"] == "reaped" and entry["action"] == "reaped_in_place", entry
    assert entry["signals"][0]["signal"] == "REAP" and entry["zombies_reaped_in_place"] >= 3
    # Same process, not restarted, nobody left attached; the zombies it had are gone.
    assert node.tenant_pid(host, "leaky-tenant") == leaky and node.starttime(host, leaky) == leaky_start
    assert node.tracer(host, leaky) == 0
    assert not set(before) & set(node.sshd_zombies(host, leaky))

    refused = node.entry_for(report, stopped)
    assert refused["skipped_rungs"][0]["signal"] == "REAP" and "stopped" in refused["skipped_rungs"][0]["reason"]
    # REAP refused it, and restarting it is a last resort for a container running out of PIDs: held.
    assert refused["outcome"] == "held" and "no PID pressure" in refused["detail"], refused
    assert [s for s in refused["signals"] if s.get("result") == "sent"] == []
    assert node.tenant_pid(host, "stopped-tenant") == stopped
    assert set(stopped_zombies) <= set(node.sshd_zombies(host, stopped))
    assert report["signals_sent"] == 0


def test_the_nodes_own_daemons_are_untouched(host):
    assert node.daemons(host) == node.daemons_before(host)


def test_service_runs_unprivileged_and_exposure_matches_the_readme(host):
    unit = host.file("/etc/systemd/system/zombie-reaper.service").content_string
    assert "User=zombie-reaper" in unit and "AmbientCapabilities=CAP_KILL CAP_SYS_PTRACE" in unit
    output = host.check_output("systemd-analyze security --offline=true --no-pager zombie-reaper.service")
    measured = float(re.search(r"Overall exposure level for \S+: (\d+\.\d)", output).group(1))
    promised = float(re.search(r"\| REAP \(default\) \| \*\*(\d+\.\d)\*\* \|", README.read_text()).group(1))
    assert measured <= promised


def test_logrotate_config_is_clean(host):
    result = host.run("logrotate -d /etc/logrotate.d/zombie-reaper")
    assert result.rc == 0, result.stderr
    assert "error" not in (result.stdout + result.stderr).lower()
