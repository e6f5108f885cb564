"""metrics: the exposition of a run on a fixture /proc: series keyed by container, never by pid or outcome."""

from proc_fixture import CRI_ID, DOCKER_ID, POD_UID, write_proc_tree
from zombie_reaper.engine import MODE_INFO, run
from zombie_reaper.metrics import METRICS_TOP_CONTAINERS, format_metrics
from zombie_reaper.options import Policy

CRI_CGROUP = ("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/cri-containerd-%s.scope\n"
              % (POD_UID.replace("-", "_"), CRI_ID))


def series(text, name):
    return sorted(line for line in text.splitlines() if line.startswith("zombie_reaper_%s{" % name)
                  or line.startswith("zombie_reaper_%s " % name))


def test_zombies_are_counted_per_container_with_its_pod_and_kubernetes_name(tmp_path):
    processes = [(1, "systemd", "S", 0, {}),
                 # two parents in the same pod container: one series, their sum
                 (20, "etcd", "S", 1, {"nspid": "20\t1", "cgroup": CRI_CGROUP}),
                 (21, "sh", "S", 20, {"nspid": "21\t2", "cgroup": CRI_CGROUP}),
                 (40, "app", "S", 1, {"nspid": "40\t1", "cgroup": "0::/system.slice/docker-%s.scope\n" % DOCKER_ID}),
                 (60, "cron", "S", 1, {})]
    processes += [(100 + i, "timeout", "Z", 20, {"cgroup": CRI_CGROUP}) for i in range(4)]
    processes += [(110, "sh", "Z", 21, {"cgroup": CRI_CGROUP}), (120, "sshd", "Z", 40, {}), (130, "x", "Z", 60, {})]
    write_proc_tree(tmp_path / "proc", processes)
    logs = tmp_path / "log"
    (logs / "pods" / ("tenant-a_etcd-0_%s" % POD_UID)).mkdir(parents=True)
    (logs / "containers").mkdir()
    (logs / "containers" / ("etcd-0_tenant-a_etcd-%s.log" % CRI_ID)).symlink_to("/nonexistent")
    policy = Policy.from_options(proc_root=str(tmp_path / "proc"), pods_log_dir=str(logs / "pods"), confirm_seconds=0,
                                 scope="all")
    report = run(policy, mode=MODE_INFO)
    assert report["parents"][0]["container"]["name"] == "etcd"
    text = format_metrics(report)
    assert series(text, "container_zombies") == sorted([
        'zombie_reaper_container_zombies{runtime="containerd",container_id="%s",pod_namespace="tenant-a",'
        'pod="etcd-0",container="etcd"} 5' % CRI_ID[:12],
        'zombie_reaper_container_zombies{runtime="docker",container_id="%s",pod_namespace="",pod="",container=""} 1'
        % DOCKER_ID[:12],
        'zombie_reaper_container_zombies{runtime="",container_id="",pod_namespace="",pod="",container=""} 1'])
    assert "pid=" not in text and "outcome=\"eligible\"" in text  # outcomes only as counts of parents
    # No state file: no totals to count from, so no counters (rather than counters that restart every run).
    assert "_total" not in text and "zombie_reaper_last_success_timestamp_seconds" in text


def test_containers_past_the_top_ones_are_one_series(tmp_path):
    processes = [(1, "systemd", "S", 0, {})]
    for index in range(METRICS_TOP_CONTAINERS + 3):
        pid = 1000 + index * 100
        cgroup = "0::/system.slice/libpod-%s.scope\n" % ("%02x" % (index + 1) * 32)
        processes.append((pid, "app", "S", 1, {"nspid": "%d\t1" % pid, "cgroup": cgroup}))
        processes += [(pid + 1 + z, "sh", "Z", pid, {"cgroup": cgroup}) for z in range(index + 1)]
    write_proc_tree(tmp_path / "proc", processes)
    report = run(Policy.from_options(proc_root=str(tmp_path / "proc"), confirm_seconds=0), mode=MODE_INFO)
    lines = series(format_metrics(report), "container_zombies")
    assert len(lines) == METRICS_TOP_CONTAINERS + 1
    assert 'zombie_reaper_container_zombies{runtime="other",container_id="other",pod_namespace="",pod="",' \
           'container=""} 6' in lines  # the three smallest: 1 + 2 + 3
