"""The container-init cooldown holds across a restart, keyed on what survives one, on real processes in
cgroups this test creates (cgroup v1 pids hierarchy)."""

import os
import uuid
from pathlib import Path

import pytest

from conftest import parent_entry, policy
from zombie_reaper import engine

PIDS = Path("/sys/fs/cgroup/pids")
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not (PIDS / "cgroup.procs").exists(),
                                reason="needs root and the cgroup v1 pids hierarchy")


@pytest.fixture
def pids_cgroup():
    """Make cgroups below a private top one and move processes in; everything is removed at teardown (this
    fixture is set up before ``spawn``, so it is torn down after the processes are killed)."""
    top = PIDS / ("fleetops-test-" + uuid.uuid4().hex[:8])
    top.mkdir()

    def _move(pid, relative):
        group = top / relative
        group.mkdir(parents=True, exist_ok=True)
        (group / "cgroup.procs").write_text("%d\n" % pid)
        return group

    yield _move
    for group in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)) + [top]:
        for pid in (group / "cgroup.procs").read_text().split():
            try:
                (PIDS / "cgroup.procs").write_text(pid + "\n")
            except OSError:
                pass  # gone meanwhile
        group.rmdir()


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
    assert entry["outcome"] == "parent_exited" and not first.alive()
    for run in (2, 3):
        tenant, entry = restart(spawn, pids_cgroup, group(run), state_file)
        assert entry["outcome"] == "cooldown", entry
        assert [s["signal"] for s in entry["signals"]] == [], entry
        assert tenant.alive() and len(tenant.zombies()) == 2
