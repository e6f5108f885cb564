"""attribution: containers and pods from /proc/PID/cgroup, for every runtime and cgroup driver."""

import pytest
from proc_fixture import CRI_ID, DOCKER_ID, POD_UID
from zombie_reaper.attribution import parse_cgroup


@pytest.mark.parametrize("text, runtime, cid, pod", [
    ("0::/system.slice/docker-%s.scope\n" % DOCKER_ID, "docker", DOCKER_ID, None),
    ("12:pids:/docker/%s\n11:memory:/docker/%s\n" % (DOCKER_ID, DOCKER_ID), "docker", DOCKER_ID, None),
    ("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/cri-containerd-%s.scope\n"
     % (POD_UID.replace("-", "_"), CRI_ID), "containerd", CRI_ID, POD_UID),
    ("0::/kubepods/besteffort/pod%s/%s\n" % (POD_UID, CRI_ID), "cri", CRI_ID, POD_UID),
    ("0::/kubepods.slice/kubepods-pod%s.slice/crio-%s.scope\n" % (POD_UID.replace("-", "_"), CRI_ID),
     "cri-o", CRI_ID, POD_UID),
    ("0::/machine.slice/libpod-%s.scope/container\n" % CRI_ID, "podman", CRI_ID, None),
    ("0::/user.slice/user-1000.slice/user@1000.service/app.slice/libpod-%s.scope\n" % CRI_ID, "podman", CRI_ID,
     None),
    ("0::/system.slice/nerdctl-%s.scope\n" % CRI_ID, "containerd", CRI_ID, None),
    ("0::/system.slice/ssh.service\n", None, None, None),
    ("9:name=systemd:/\n8:pids:/\n0::/\n", None, None, None),
])
def test_parse_cgroup_attributes_runtimes(text, runtime, cid, pod):
    result = parse_cgroup(text)
    assert (result["runtime"], result["id"], result["pod_uid"]) == (runtime, cid, pod)


def test_parse_cgroup_marks_conmon_scope_as_runtime_side():
    result = parse_cgroup("0::/machine.slice/libpod-conmon-%s.scope\n" % CRI_ID)
    assert result["runtime_side"] and result["id"] is None
