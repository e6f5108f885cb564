"""A healthy application as a containerd pod's PID 1 adopts the orphans of exec probes run as kubelet runs them
(CRI ExecSync): diagnosed as probe orphans, reaped in place, the application untouched."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
import node  # noqa: E402  pylint: disable=wrong-import-position

POD = "etcd"
# A probe whose helper outlives it: sh exits at once, `timeout` is adopted by PID 1 and dies a second later.
PROBE = ["sh", "-c", "timeout 30 sleep 1 & exit 0"]


def test_exec_probe_orphans_are_diagnosed_and_reaped_in_place(host):
    pod = node.pods(host)[POD]
    cri = node.cri(host)
    before = cri.status(pod["container_id"])
    app = before["pid"]
    assert node.zombies_of(host, app) == [], "the application leaked before any probe"
    for _probe in range(4):
        assert cri.exec_sync(pod["container_id"], 10, PROBE)["exit_code"] == 0
    zombies = node.wait_until(lambda: len(node.zombies_of(host, app)) >= 4 and node.zombies_of(host, app))
    assert zombies, "the probes left no orphans behind"
    comms = set(row[3] for row in node.processes(host) if row[0] in zombies)
    assert comms == {"timeout"}, comms
    start = node.starttime(host, app)

    # Prometheus sees the pod by name (a dry run's metrics, before the service clears them).
    # its own log: this root run must leave the service's files alone
    host.run_test("zombie-reaper --dry-run --reap-min-age-seconds 0 --log /root/probe.log --textfile /root/probe.prom")
    metrics = host.file("/root/probe.prom").content_string
    labels = 'container_id="%s",pod_namespace="tenants",pod="%s",container="%s"' % (pod["container_id"][:12], POD, POD)
    assert 'zombie_reaper_container_zombies{runtime="containerd",%s} 4' % labels in metrics, metrics

    host.run_test("systemctl start zombie-reaper.service")

    entry = node.entry_for(node.reports(host)[-1], app)
    assert entry["diagnosis"]["kind"] == "probe_orphans", entry["diagnosis"]
    assert "never a reason to restart it" in entry["diagnosis"]["text"]
    assert entry["outcome"] == "reaped" and entry["action"] == "reaped_in_place", entry
    assert entry["container"]["pod_name"] == POD and entry["container"]["source"] == "runtime record"
    after = cri.status(pod["container_id"])
    assert (after["state"], after["pid"], after["started_at"]) == ("running", app, before["started_at"])
    assert node.starttime(host, app) == start and node.tracer(host, app) == 0
    assert not set(zombies) & set(node.zombies_of(host, app))


def test_the_nodes_own_daemons_are_untouched(host):
    assert node.daemons(host) == node.daemons_before(host)
