"""The container-init cooldown holds across a restart, keyed on what survives one, on real processes in
cgroups this test creates (cgroup v1 pids hierarchy)."""

import uuid

import pytest

from conftest import PIDS_HIERARCHY, parent_entry, policy
from zombie_reaper import engine

pytestmark = pytest.mark.skipif(PIDS_HIERARCHY is None, reason="needs root and the cgroup v1 pids hierarchy")


LADDER = "SIGTERM:0.3,SIGKILL:2"  # the tenants ignore SIGTERM: only SIGKILL clears them


def restart(spawn, pids_cgroup, group, state_file):
    """A new container init in ``group`` (as a restart makes one), then a reap; its outcome."""
    tenant = spawn("--zombies", 2, "--ignore-term", namespace=True)
    pids_cgroup(tenant.pid, group)
    report = engine.run(policy(limit_subtree=tenant.sandbox_pid, state_file=state_file, ladder=LADDER))
    return tenant, parent_entry(report, tenant.pid)


@pytest.mark.parametrize("how", ["kubernetes", "plain-cgroup"])
def test_a_restarted_container_init_is_not_killed_again_within_the_cooldown(pids_cgroup, spawn, tmp_path, how):
    state_file = str(tmp_path / "state.json")
    pod = "pod%s" % uuid.uuid4()

    def group(run):  # kubelet: same pod UID, a new 64-hex container id each time; plain: the same cgroup
        return "kubepods/besteffort/%s/%s" % (pod, uuid.uuid4().hex * 2) if how == "kubernetes" else "tenant-svc"

    first, entry = restart(spawn, pids_cgroup, group(1), state_file)
    # Escalated and gone (whether its orphans were reaped within the adoption grace depends on the machine's load).
    assert [s["signal"] for s in entry["signals"] if s["result"] == "sent"] == ["SIGKILL"], entry
    assert entry["outcome"] in ("parent_exited", "reparented_defunct") and not first.alive()
    for run in (2, 3):
        tenant, entry = restart(spawn, pids_cgroup, group(run), state_file)
        assert entry["outcome"] == "cooldown", entry
        assert [s["signal"] for s in entry["signals"]] == [], entry
        assert tenant.alive() and len(tenant.zombies()) == 2
