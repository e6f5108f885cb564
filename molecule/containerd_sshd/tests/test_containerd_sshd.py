"""A containerd pod whose PID 1 leaks a failed sshd every second: reaped in place by the timer's service,
named from containerd's own record, the task still the same process."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
import node  # noqa: E402  pylint: disable=wrong-import-position

POD = "sshd-leak"


def task_line(host, container_id):
    for line in host.check_output("ctr -n k8s.io task ls").splitlines():
        if line.startswith(container_id):
            return line.split()
    return None


def test_the_pod_runs_under_containerds_shim(host):
    pod = node.pods(host)[POD]
    init = node.cri(host).status(pod["container_id"])["pid"]
    ppid = next(row[1] for row in node.processes(host) if row[0] == init)
    shim = next(row for row in node.processes(host) if row[0] == ppid)
    assert shim[3] == "containerd-shim" and "-namespace k8s.io" in shim[4], shim
    assert host.file("/run/containerd/io.containerd.runtime.v2.task/k8s.io/%s/config.json" % pod["container_id"]).exists
    assert node.reports(host) == [], "a timer run acted before the verifier"


def test_the_service_reaps_the_pod_in_place_and_names_it(host):
    pod = node.pods(host)[POD]
    cri = node.cri(host)
    before = cri.status(pod["container_id"])
    init = before["pid"]
    zombies = node.wait_until(lambda: len(node.zombies_of(host, init)) >= 3 and node.zombies_of(host, init))
    assert zombies, "the pod made no zombies"
    start = node.starttime(host, init)
    runtime_pids = sorted(row[0] for row in node.processes(host) if row[3] in ("containerd-shim", "pause", "containerd"))

    host.run_test("systemctl start zombie-reaper.service")

    report = node.reports(host)[-1]
    entry = node.entry_for(report, init)
    assert entry["class"] == "container_init" and entry["outcome"] == "reaped", entry
    assert entry["action"] == "reaped_in_place" and entry["zombies_reaped_in_place"] >= 3, entry
    assert entry["container"] == {
        "runtime": "containerd", "id": pod["container_id"], "pod_uid": "0f1e2d3c-0000-4000-8000-00000000a001",
        "pod_namespace": "tenants", "pod_name": POD, "name": POD, "image": "localhost/fleetops-node:cron",
        "source": "runtime record", "pid_namespace": entry["container"]["pid_namespace"], "pid_in_container": 1}
    assert entry["diagnosis"]["kind"] == "init_never_waits"
    assert report["signals_sent"] == 0 and report["container_restarts"] == 0
    # The same task, as containerd and the CRI see it: running, same PID and start, nothing restarted.
    after = cri.status(pod["container_id"])
    assert (after["state"], after["pid"], after["started_at"]) == ("running", init, before["started_at"])
    assert node.starttime(host, init) == start and node.tracer(host, init) == 0
    assert task_line(host, pod["container_id"])[1:3] == [str(init), "RUNNING"]
    assert not set(zombies) & set(node.zombies_of(host, init))
    assert sorted(row[0] for row in node.processes(host)
                  if row[3] in ("containerd-shim", "pause", "containerd")) == runtime_pids
    # The journal's summary names the pod.
    assert "tenants/%s" % POD in host.check_output("journalctl -u zombie-reaper.service --no-pager -o cat")


def test_the_nodes_own_daemons_are_untouched(host):
    assert node.daemons(host) == node.daemons_before(host)
