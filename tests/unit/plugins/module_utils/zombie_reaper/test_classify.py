"""classify: every class of zombie parent, and what tenants cannot fake."""

import pytest
from proc_fixture import DOCKER_ID, make_parent
from zombie_reaper import classify as c


@pytest.mark.parametrize("parent, expected", [
    (make_parent(pid=1, comm="systemd"), c.CLASS_HOST_INIT),
    (make_parent(comm="kworker/0:1", flags=c.PF_KTHREAD), c.CLASS_KERNEL_THREAD),
    # in a PID namespace, pid 2 and its children are ordinary processes
    (make_parent(pid=2, comm="bash", ppid=1), c.CLASS_HOST_PROCESS),
    (make_parent(pid=5, comm="app", ppid=2), c.CLASS_HOST_PROCESS),
    (make_parent(comm="containerd-shim", cmdline="/usr/bin/containerd-shim-runc-v2 -id x"), c.CLASS_RUNTIME),
    (make_parent(comm="conmon"), c.CLASS_RUNTIME),
    (make_parent(comm="sshd"), c.CLASS_PROTECTED),
    (make_parent(comm="systemd-journal"), c.CLASS_PROTECTED),
    (make_parent(comm="bash", nspid=[4242, 1]), c.CLASS_CONTAINER_INIT),
    # a tenant cannot borrow protection by naming its PID 1 like a host daemon or runtime
    (make_parent(comm="sshd", nspid=[4242, 1]), c.CLASS_CONTAINER_INIT),
    (make_parent(comm="containerd-shim", nspid=[4243, 7]), c.CLASS_CONTAINER_PROCESS),
    (make_parent(comm="node", cgroup="0::/system.slice/docker-%s.scope\n" % DOCKER_ID), c.CLASS_CONTAINER_PROCESS),
    (make_parent(comm="python3"), c.CLASS_HOST_PROCESS),
])
def test_classify(parent, expected):
    assert c.classify(parent, reaper_pids=set(), user_patterns=[]) == expected


def test_classify_reaper_lineage_and_user_patterns():
    assert c.classify(make_parent(pid=77), {77}, []) == c.CLASS_REAPER
    assert c.classify(make_parent(comm="my-agent"), set(), ["my-*"]) == c.CLASS_PROTECTED
    # name patterns do not reach into tenant namespaces, attribution patterns do
    tenant = make_parent(comm="my-agent", nspid=[9, 1], cgroup="0::/system.slice/docker-%s.scope\n" % DOCKER_ID)
    assert c.classify(tenant, set(), ["my-*"]) == c.CLASS_CONTAINER_INIT
    assert c.classify(tenant, set(), ["container:" + DOCKER_ID[:12]]) == c.CLASS_PROTECTED


POD = "1c3e7a52-9a0b-4f44-8c3c-0123456789ab"


@pytest.mark.parametrize("cgroup, key", [
    # kubelet gives a restarted container a new id; the pod keeps its UID
    ("0::/\n8:pids:/kubepods/besteffort/pod%s/%s\n" % (POD, "ab" * 32), "pod:" + POD),
    ("0::/system.slice/docker-%s.scope\n" % DOCKER_ID, "container:" + DOCKER_ID),
    # no container: the first hierarchy that is not the root, unified, systemd, pids, then the rest
    ("4:memory:/session-x\n8:pids:/tenants/web\n1:name=systemd:/\n0::/\n", "cgroup:/tenants/web"),
    ("4:memory:/session-x\n8:pids:/\n0::/\n", "cgroup:/session-x"),
    ("8:pids:/\n0::/\n", "pidns:4026532000"),
])
def test_restart_key_names_what_survives_a_restart(cgroup, key):
    parent = make_parent(nspid=[42, 1], cgroup=cgroup, ppid=0)
    parent.pidns = "4026532000"
    assert parent.restart_key("/nonexistent") == key
