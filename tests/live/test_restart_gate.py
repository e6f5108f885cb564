"""A container init is restarted only when its container runs out of PIDs, at most restart_budget times a day,
and never for probe orphans: real namespace inits in pids cgroups (and limits) this test creates."""

import json
import time

import pytest

from conftest import PIDS_HIERARCHY, parent_entry, policy
from zombie_reaper import engine
from zombie_reaper.metrics import format_metrics
from zombie_reaper.options import Policy
from zombie_reaper.procfs import read_stat
from zombie_reaper.reap.refusal import unsupported_reason

pytestmark = pytest.mark.skipif(PIDS_HIERARCHY is None, reason="needs root and the cgroup v1 pids hierarchy")

# The tenants catch nothing: SIGCHLD and SIGTERM cannot work on them; only SIGKILL (a restart) clears them.
GATED = dict(restart_container_init="on_pressure", ladder="SIGCHLD:0.2,SIGTERM:0.2,SIGKILL:2")


def tenant_in(spawn, pids_cgroup, group, limit, *args):
    tenant = spawn("--zombies", 3, *args, namespace=True)
    pids_cgroup(tenant.pid, group, limit)
    return tenant


@pytest.mark.skipif(unsupported_reason() is not None, reason=str(unsupported_reason()))
def test_the_defaults_reap_a_container_init_in_place(pids_cgroup, spawn, tmp_path):
    tenant = tenant_in(spawn, pids_cgroup, "default", 1000)
    defaults = Policy.from_options(limit_subtree=tenant.sandbox_pid, state_file=str(tmp_path / "s.json"),
                                   reap_min_age_seconds=0, confirm_seconds=0)  # every other option as shipped
    report = engine.run(defaults)
    entry = parent_entry(report, tenant.pid)
    assert entry["outcome"] == "reaped" and entry["action"] == "reaped_in_place", entry
    assert report["signals_sent"] == 0 and report["container_restarts"] == 0 and entry["restarted"] is False
    assert tenant.alive() and tenant.zombies() == []


def test_a_container_far_from_its_limit_is_held_not_restarted(pids_cgroup, spawn, tmp_path):
    tenant = tenant_in(spawn, pids_cgroup, "roomy", 1000)
    report = engine.run(policy(limit_subtree=tenant.sandbox_pid, state_file=str(tmp_path / "s.json"), **GATED))
    entry = parent_entry(report, tenant.pid)
    assert entry["outcome"] == "held" and [s for s in entry["signals"] if s["result"] == "sent"] == [], entry
    assert "no PID pressure" in entry["detail"] and "1 of 1000 PIDs" in entry["detail"], entry["detail"]
    assert entry["pids_headroom"]["where"].startswith("cgroup:/fleetops-test-") and entry["pids_headroom"]["limit"] == 1000
    assert entry["leak_rate_per_hour"] is None and entry["seconds_left"] is None  # no history yet: unknown
    assert entry["diagnosis"]["kind"] == "init_never_waits"
    assert tenant.alive() and len(tenant.zombies()) == 3


def test_a_container_at_its_limit_is_restarted_once_and_the_budget_stops_the_next(pids_cgroup, spawn, tmp_path):
    state = str(tmp_path / "s.json")
    first = tenant_in(spawn, pids_cgroup, "full-1", 1)  # its init alone fills pids.max: 100% used
    report = engine.run(policy(limit_subtree=first.sandbox_pid, state_file=state, restart_budget=1, **GATED))
    entry = parent_entry(report, first.pid)
    assert [s["signal"] for s in entry["signals"] if s["result"] == "sent"] == ["SIGKILL"], entry
    assert entry["restarted"] is True and report["container_restarts"] == 1
    metrics = format_metrics(report)
    assert "\nzombie_reaper_container_restarts_total 1\n" in metrics
    assert '\nzombie_reaper_signals_sent_total{signal="SIGKILL"} 1\n' in metrics
    assert not first.alive()
    second = tenant_in(spawn, pids_cgroup, "full-2", 1)  # another container, as full
    report = engine.run(policy(limit_subtree=second.sandbox_pid, state_file=state, restart_budget=1, **GATED))
    entry = parent_entry(report, second.pid)
    assert entry["outcome"] == "held" and "restart budget is spent: 1 container-init restart" in entry["detail"]
    metrics = format_metrics(report)  # the totals persist across runs: still the one restart
    assert entry["restarted"] is False and "\nzombie_reaper_container_restarts_total 1\n" in metrics
    assert "\nzombie_reaper_runs_total 2\n" in metrics
    assert second.alive() and len(second.zombies()) == 3
    assert len(json.load(open(state))["restarts"]) == 1


def test_a_leak_that_runs_out_within_the_hour_is_restarted(pids_cgroup, spawn, tmp_path):
    tenant = tenant_in(spawn, pids_cgroup, "leaking", 100)  # 1% used: no pressure by share
    # The history a timer's earlier runs left: one zombie first seen 10 min ago, two since (12 an hour).
    now = time.time()
    (oldest, *newer) = [(pid, read_stat("/proc", pid)["starttime"]) for pid in tenant.zombies()]
    seen = {"%d:%d" % oldest: now - 600}
    seen.update(("%d:%d" % zombie, now - 60) for zombie in newer)
    state = tmp_path / "s.json"
    state.write_text(json.dumps({"version": 2, "first_seen": seen, "escalated": {}, "restarts": []}))
    entry = parent_entry(engine.run(policy(limit_subtree=tenant.sandbox_pid, state_file=str(state), **GATED)),
                         tenant.pid)
    assert entry["leak_rate_per_hour"] == pytest.approx(12, rel=0.05)
    assert entry["seconds_left"] == pytest.approx(99 * 3600 / 12, rel=0.05)  # 99 PIDs free at 12 an hour: 8.25 h
    assert entry["outcome"] == "held"  # 8 h left is more than restart_time_left_seconds (1 h)
    more = parent_entry(engine.run(policy(limit_subtree=tenant.sandbox_pid, state_file=str(state),
                                          restart_time_left_seconds=9 * 3600, **GATED)), tenant.pid)
    assert [s["signal"] for s in more["signals"] if s["result"] == "sent"] == ["SIGKILL"], more


def test_probe_orphans_are_never_a_reason_to_restart(pids_cgroup, spawn, tmp_path):
    tenant = tenant_in(spawn, pids_cgroup, "probed", 1000, "--child-name", "timeout")
    options = {**GATED, "restart_container_init": "always"}  # even the old behaviour holds them without pressure
    entry = parent_entry(engine.run(policy(limit_subtree=tenant.sandbox_pid, state_file=str(tmp_path / "s.json"),
                                           **options)), tenant.pid)
    assert entry["diagnosis"]["kind"] == "probe_orphans" and "timeout" in entry["diagnosis"]["text"]
    assert entry["outcome"] == "held" and "probe orphans are never a reason" in entry["detail"], entry
    assert tenant.alive() and len(tenant.zombies()) == 3


def test_never_holds_even_a_full_container(pids_cgroup, spawn):
    tenant = tenant_in(spawn, pids_cgroup, "full", 1)
    never = {**GATED, "restart_container_init": "never"}
    entry = parent_entry(engine.run(policy(limit_subtree=tenant.sandbox_pid, **never)), tenant.pid)
    assert entry["outcome"] == "held" and "restart_container_init is never" in entry["detail"]
    assert tenant.alive()
