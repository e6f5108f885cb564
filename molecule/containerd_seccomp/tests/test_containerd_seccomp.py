"""A leaky containerd pod under the runtime's default seccomp profile. With the role's defaults REAP refuses
it and the init is held, untouched. With zombie_reaper_reap_seccomp: true (the side effect: the unit then
holds CAP_SYS_ADMIN and no seccomp filter of its own) the same init is reaped in place, filter still on.
The verifier runs after converge and after the side effect; the unit's capabilities say which half."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
import node  # noqa: E402  pylint: disable=wrong-import-position

POD = "seccomp-leak"


def suspends_seccomp(host):
    bounding = host.check_output("systemctl show -p CapabilityBoundingSet --value zombie-reaper.service")
    return "cap_sys_admin" in bounding.split()


def test_the_pod_runs_under_a_seccomp_filter(host):
    init = node.cri(host).status(node.pods(host)[POD]["container_id"])["pid"]
    assert "Seccomp:\t2" in host.file("/proc/%d/status" % init).content_string


def test_the_unit_has_no_seccomp_filter_exactly_when_it_suspends_the_tenants(host):
    unit = host.file("/etc/systemd/system/zombie-reaper.service").content_string
    assert ("SystemCallFilter=" in unit) != suspends_seccomp(host)
    assert ("ProtectClock=yes" in unit) != suspends_seccomp(host)


def test_the_filtered_pod_is_refused_or_reaped_as_the_unit_allows(host):
    pod = node.pods(host)[POD]
    cri = node.cri(host)
    before = cri.status(pod["container_id"])
    init = before["pid"]
    zombies = node.wait_until(lambda: len(node.zombies_of(host, init)) >= 3 and node.zombies_of(host, init))
    assert zombies

    host.run_test("systemctl start zombie-reaper.service")

    entry = node.entry_for(node.reports(host)[-1], init)
    if suspends_seccomp(host):
        assert entry["outcome"] == "reaped", entry
        assert entry["zombies_reaped_in_place"] >= len(zombies), entry
        assert not set(zombies) & set(node.zombies_of(host, init))
        assert "Seccomp:\t2" in host.file("/proc/%d/status" % init).content_string
    else:
        refused = entry["skipped_rungs"][0]
        assert refused["signal"] == "REAP" and "seccomp" in refused["reason"], entry
        assert entry["outcome"] == "held" and "no PID pressure" in entry["detail"], entry
        assert set(zombies) <= set(node.zombies_of(host, init))
    assert [s for s in entry["signals"] if s["result"] == "sent"] == []
    after = cri.status(pod["container_id"])
    assert (after["state"], after["pid"], after["started_at"]) == ("running", init, before["started_at"])
    assert node.tracer(host, init) == 0


def test_the_nodes_own_daemons_are_untouched(host):
    assert node.daemons(host) == node.daemons_before(host)
