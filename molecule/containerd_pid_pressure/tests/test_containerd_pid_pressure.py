"""REAP off: of two containerd pods at their pod-level pids.max one init is restarted, the budget (1) holds
the other; a pod far from its limit is held, not killed."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
import node  # noqa: E402  pylint: disable=wrong-import-position


def test_the_pod_limits_are_kubelets(host):
    pods = node.pods(host)
    for name, limit in (("full-1", "10"), ("full-2", "10"), ("roomy", "1000")):
        path = "/sys/fs/cgroup/pids%s/pids.max" % pods[name]["cgroup_parent"]
        assert host.file(path).content_string.strip() == limit


def test_one_full_pod_is_restarted_the_budget_holds_the_other_and_room_means_held(host):
    pods = node.pods(host)
    cri = node.cri(host)
    inits = dict((name, cri.status(pod["container_id"])["pid"]) for name, pod in pods.items())
    full = node.wait_until(lambda: all(len(node.zombies_of(host, inits[n])) >= 8 for n in ("full-1", "full-2")))
    assert full, "the full pods did not reach their limit"
    node.wait_until(lambda: len(node.zombies_of(host, inits["roomy"])) == 3)

    host.run_test("systemctl start zombie-reaper.service")

    report = node.reports(host)[-1]
    entries = dict((name, node.entry_for(report, pid)) for name, pid in inits.items())
    restarted = [name for name in ("full-1", "full-2") if entries[name]["restarted"]]
    assert len(restarted) == 1, entries
    other = ({"full-1", "full-2"} - set(restarted)).pop()
    first = entries[restarted[0]]
    assert [s["signal"] for s in first["signals"] if s["result"] == "sent"][-1] == "SIGKILL", first
    assert cri.status(pods[restarted[0]]["container_id"])["state"] == "exited"
    assert report["container_restarts"] == 1 and report["totals"]["container_restarts"] == 1
    held = entries[other]
    assert held["outcome"] == "held" and "restart budget is spent" in held["detail"], held
    assert cri.status(pods[other]["container_id"])["state"] == "running"
    roomy = entries["roomy"]
    assert roomy["outcome"] == "held" and "no PID pressure" in roomy["detail"], roomy
    assert roomy["pids_headroom"]["limit"] == 1000
    assert [s for s in roomy["signals"] if s["result"] == "sent"] == []
    assert cri.status(pods["roomy"]["container_id"])["state"] == "running"
    assert all(entries[name]["container"]["pod_name"] == name for name in pods)


def test_the_nodes_own_daemons_are_untouched(host):
    assert node.daemons(host) == node.daemons_before(host)
