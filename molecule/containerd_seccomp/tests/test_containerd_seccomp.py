"""A leaky containerd pod under the runtime's default seccomp profile. With the role's defaults (no
zombie_reaper_reap_seccomp) REAP refuses it and the init is held, untouched."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
import node  # noqa: E402  pylint: disable=wrong-import-position

POD = "seccomp-leak"


def test_the_pod_runs_under_a_seccomp_filter(host):
    init = node.cri(host).status(node.pods(host)[POD]["container_id"])["pid"]
    assert "Seccomp:\t2" in host.file("/proc/%d/status" % init).content_string


def test_reap_refuses_the_filtered_pod_and_its_init_is_held(host):
    pod = node.pods(host)[POD]
    cri = node.cri(host)
    before = cri.status(pod["container_id"])
    init = before["pid"]
    zombies = node.wait_until(lambda: len(node.zombies_of(host, init)) >= 3 and node.zombies_of(host, init))
    assert zombies

    host.run_test("systemctl start zombie-reaper.service")

    entry = node.entry_for(node.reports(host)[-1], init)
    refused = entry["skipped_rungs"][0]
    assert refused["signal"] == "REAP" and "seccomp" in refused["reason"], entry
    assert entry["outcome"] == "held" and "no PID pressure" in entry["detail"], entry
    assert [s for s in entry["signals"] if s["result"] == "sent"] == []
    assert set(zombies) <= set(node.zombies_of(host, init))
    after = cri.status(pod["container_id"])
    assert (after["state"], after["pid"], after["started_at"]) == ("running", init, before["started_at"])
    assert node.tracer(host, init) == 0


def test_the_nodes_own_daemons_are_untouched(host):
    assert node.daemons(host) == node.daemons_before(host)
