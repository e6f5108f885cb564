"""engine: whole runs in info mode on a fixture /proc (no process exists, none is signalled)."""

import json
import os

from proc_fixture import CRI_ID, DOCKER_ID, POD_UID, write_proc_tree
from zombie_reaper.engine import MODE_INFO, run
from zombie_reaper.options import Policy
from zombie_reaper.report import format_summary
from zombie_reaper.state import State, empty_totals


def test_fixture_proc_tree_groups_and_attributes(tmp_path):
    cgroup = ("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/cri-containerd-%s.scope\n"
              % (POD_UID.replace("-", "_"), CRI_ID))
    processes = [
        (1, "systemd", "S", 0, {}),
        (10, "containerd-shim", "S", 1, {"cmdline": "/usr/bin/containerd-shim-runc-v2 -id x"}),
        (20, "bash", "S", 10, {"nspid": "20\t1", "cgroup": cgroup}),
        (30, "defunct host) Z", "Z", 1, {}),
        (40, "worker", "Z", 1, {"threads": 3}),  # leader exited, threads live on: not a zombie to reap
    ]
    processes += [(100 + i, "sshd", "Z", 20, {"cgroup": cgroup}) for i in range(5)]
    processes += [(200, "haproxy", "Z", 20, {"cgroup": cgroup}), (300, "sh", "Z", 10, {})]
    write_proc_tree(tmp_path / "proc", processes)
    pods = tmp_path / "pods"
    (pods / ("tenant-a_web-7d9_%s" % POD_UID)).mkdir(parents=True)
    policy = Policy.from_options(proc_root=str(tmp_path / "proc"), pods_log_dir=str(pods), confirm_seconds=0)
    report = run(policy, mode=MODE_INFO)
    assert report["zombies"] == 8
    assert report["zombie_leaders_with_threads"] == 1
    by_pid = {p["pid"]: p for p in report["parents"]}
    assert set(by_pid) == {1, 10, 20}
    tenant = by_pid[20]
    assert tenant["class"] == "container_init"
    assert tenant["zombies"] == 6 and tenant["zombie_names"] == {"sshd": 5, "haproxy": 1}
    assert tenant["container"]["runtime"] == "containerd" and tenant["container"]["id"] == CRI_ID
    assert (tenant["container"]["pod_namespace"], tenant["container"]["pod_name"]) == ("tenant-a", "web-7d9")
    assert tenant["outcome"] == "eligible"
    assert by_pid[1]["class"] == "host_init" and by_pid[1]["outcome"] == "protected"
    assert by_pid[10]["class"] == "container_runtime" and by_pid[10]["outcome"] == "protected"
    assert report["pids"]["threads"] == 300 and report["pids"]["pid_max"] == 4194304
    assert report["parents"][0]["pid"] == 20  # worst offender first


def test_limit_container_confines_the_run(tmp_path):
    processes = [(1, "systemd", "S", 0, {}),
                 (20, "bash", "S", 1, {"nspid": "20\t1", "cgroup": "0::/system.slice/docker-%s.scope\n" % DOCKER_ID}),
                 (21, "sshd", "Z", 20, {}), (30, "app", "S", 1, {"nspid": "30\t1"}), (31, "sshd", "Z", 30, {})]
    write_proc_tree(tmp_path / "proc", processes)
    policy = Policy.from_options(proc_root=str(tmp_path / "proc"), confirm_seconds=0, limit_container=DOCKER_ID[:12])
    report = run(policy, mode=MODE_INFO)
    assert [p["pid"] for p in report["parents"]] == [20]
    assert report["zombies_outside_limit"] == 1


def test_state_file_with_wrong_layout_is_replaced(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"version": 1, "first_seen": [], "escalated": {}}))
    state = State(str(path))
    assert "unexpected layout" in state.warning and state.first_seen == {}
    state.save(set(), 100.0, 10)
    assert json.loads(path.read_text()) == {"version": 3, "first_seen": {}, "escalated": {}, "restarts": [],
                                            "totals": empty_totals()}
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def test_summary_mentions_every_parent(tmp_path):
    processes = [(1, "systemd", "S", 0, {}), (5, "tenant", "S", 1, {"nspid": "5\t1"}), (6, "sshd", "Z", 5, {})]
    write_proc_tree(tmp_path / "proc", processes)
    report = run(Policy.from_options(proc_root=str(tmp_path / "proc"), confirm_seconds=0), mode=MODE_INFO)
    text = format_summary(report)
    assert "1 zombies under 1 parents" in text
    assert "container_init" in text and "eligible" in text
