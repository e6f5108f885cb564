"""records: the runtime's own record of a container (bundle config.json) names pods, innermost first."""

import json
import os

import pytest

from proc_fixture import CRI_ID, DOCKER_ID, POD_UID, write_proc_tree
from zombie_reaper.attribution import parse_cgroup
from zombie_reaper.engine import MODE_INFO, run
from zombie_reaper.options import Policy
from zombie_reaper.records import RuntimeRecords

TASKS = "run/containerd/io.containerd.runtime.v2.task"
CRI_ANNOTATIONS = {
    "io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "etcd",
    "io.kubernetes.cri.sandbox-name": "etcd-0", "io.kubernetes.cri.sandbox-namespace": "tenant-b",
    "io.kubernetes.cri.sandbox-uid": POD_UID, "io.kubernetes.cri.image-name": "registry.example/etcd:3.5",
    "io.kubernetes.cri.sandbox-id": "5a" * 32,
}


def bundle(root, ident, annotations, namespace="k8s.io", tasks=TASKS):
    directory = root / tasks / namespace / ident
    directory.mkdir(parents=True)
    config = directory / "config.json"
    config.write_text(json.dumps({"ociVersion": "1.0.2", "annotations": annotations}))
    os.chmod(str(config), 0o644)
    return config


def tenant(tmp_path, cgroup, comm="etcd", nspid="20\t1"):
    write_proc_tree(tmp_path / "proc", [
        (1, "systemd", "S", 0, {}),
        (20, comm, "S", 1, {"nspid": nspid, "cgroup": cgroup}),
        (21, "timeout", "Z", 20, {"cgroup": cgroup}),
    ])


def report_for(tmp_path):
    policy = Policy.from_options(proc_root=str(tmp_path / "proc"), pods_log_dir=str(tmp_path / "no-pods"),
                                 runtime_state_root=str(tmp_path / "root"), confirm_seconds=0)
    return dict((p["pid"], p) for p in run(policy, mode=MODE_INFO)["parents"])[20]


def test_a_cri_container_is_named_by_its_bundle_without_kubelet_logs(tmp_path):
    bundle(tmp_path / "root", CRI_ID, CRI_ANNOTATIONS)
    tenant(tmp_path, "4:pids:/kubepods/besteffort/pod%s/%s\n0::/\n" % (POD_UID, CRI_ID))
    container = report_for(tmp_path)["container"]
    assert container == {
        "runtime": "containerd", "id": CRI_ID, "pod_uid": POD_UID, "pod_namespace": "tenant-b", "pod_name": "etcd-0",
        "name": "etcd", "image": "registry.example/etcd:3.5", "source": "runtime record",
        "pid_namespace": None, "pid_in_container": 1}


def test_the_innermost_record_wins_over_the_node_container_around_it(tmp_path):
    # a hand-named `ctr run` container (no CRI annotations) in a node that is itself a podman container
    bundle(tmp_path / "root", "tenant1", {}, namespace="default")
    tenant(tmp_path, "4:pids:/libpod_parent/libpod-%s/kubepods/besteffort/pod%s/tenant1\n" % (DOCKER_ID, POD_UID))
    container = report_for(tmp_path)["container"]
    assert (container["runtime"], container["id"], container["pod_uid"]) == ("containerd", "tenant1", POD_UID)
    assert container["source"] == "runtime record"


def test_without_records_the_innermost_cgroup_pattern_wins():
    parsed = parse_cgroup("4:pids:/libpod_parent/libpod-%s/kubepods/besteffort/pod%s/%s\n" % (DOCKER_ID, POD_UID, CRI_ID))
    assert (parsed["runtime"], parsed["id"], parsed["pod_uid"]) == ("cri", CRI_ID, POD_UID)


def test_an_outer_record_does_not_outrank_an_inner_cgroup_pattern(tmp_path):
    bundle(tmp_path / "root", DOCKER_ID, {}, namespace="moby")
    tenant(tmp_path, "4:pids:/system.slice/docker-%s.scope/kubepods/besteffort/pod%s/%s\n" % (DOCKER_ID, POD_UID, CRI_ID))
    container = report_for(tmp_path)["container"]
    assert (container["runtime"], container["id"], container["source"]) == ("cri", CRI_ID, "cgroup")


def test_the_systemd_driver_scope_names_an_id_with_dashes(tmp_path):
    bundle(tmp_path / "root", "web-1", dict(CRI_ANNOTATIONS, **{"io.kubernetes.cri.container-name": "web"}))
    slice_ = "kubepods-besteffort-pod%s.slice" % POD_UID.replace("-", "_")
    tenant(tmp_path, "0::/kubepods.slice/kubepods-besteffort.slice/%s/cri-containerd-web-1.scope\n" % slice_)
    container = report_for(tmp_path)["container"]
    assert (container["id"], container["name"]) == ("web-1", "web")


def test_the_pod_sandbox_is_the_runtime_and_never_signalled(tmp_path):
    bundle(tmp_path / "root", CRI_ID, dict(CRI_ANNOTATIONS, **{"io.kubernetes.cri.container-type": "sandbox"}))
    tenant(tmp_path, "4:pids:/kubepods/besteffort/pod%s/%s\n" % (POD_UID, CRI_ID), comm="pause")
    parent = report_for(tmp_path)
    assert parent["class"] == "container_runtime" and parent["outcome"] == "protected"
    assert "sandbox" in parent["reason"]


def test_a_tenant_named_like_the_shim_in_a_host_pid_pod_stays_a_tenant(tmp_path):
    bundle(tmp_path / "root", CRI_ID, CRI_ANNOTATIONS)
    tenant(tmp_path, "4:pids:/kubepods/besteffort/pod%s/%s\n" % (POD_UID, CRI_ID), comm="containerd-shim", nspid="20")
    parent = report_for(tmp_path)
    assert parent["class"] == "container_process" and parent["outcome"] == "eligible"


@pytest.mark.parametrize("spoil", ["group-writable", "not-root", "link", "not-json", "huge-value"])
def test_a_record_the_runtime_did_not_write_is_not_believed(tmp_path, spoil):
    config = bundle(tmp_path / "root", CRI_ID, CRI_ANNOTATIONS)
    if spoil == "group-writable":
        os.chmod(str(config), 0o664)
    elif spoil == "not-root":
        os.chown(str(config), 1000, 1000)
    elif spoil == "link":
        target = tmp_path / "planted.json"
        config.rename(target)
        config.symlink_to(target)
    elif spoil == "not-json":
        config.write_bytes(b"\xff{")
    else:
        config.write_text(json.dumps({"annotations": dict(CRI_ANNOTATIONS, **{
            "io.kubernetes.cri.sandbox-name": "x" * 300, "io.kubernetes.cri.container-name": "a\nb"})}))
    tenant(tmp_path, "4:pids:/kubepods/besteffort/pod%s/%s\n" % (POD_UID, CRI_ID))
    container = report_for(tmp_path)["container"]
    if spoil == "huge-value":  # the record stands, the values no runtime writes are dropped
        assert container["source"] == "runtime record" and container["pod_name"] is None and container["name"] is None
        assert container["image"] == "registry.example/etcd:3.5"
    else:
        assert container["source"] == "cgroup" and container["image"] is None
        assert (container["runtime"], container["id"], container["pod_uid"]) == ("cri", CRI_ID, POD_UID)


def test_cri_o_records_are_read_and_podman_s_same_layout_is_left_to_its_cgroup(tmp_path):
    root = tmp_path / "root"
    for ident, annotations in ((CRI_ID, {"io.kubernetes.cri-o.ContainerType": "container",
                                         "io.kubernetes.pod.name": "web-0", "io.kubernetes.pod.namespace": "shop",
                                         "io.kubernetes.container.name": "nginx"}),
                               (DOCKER_ID, {"io.podman.annotations.autoremove": "FALSE"})):
        directory = root / "run/containers/storage/overlay-containers" / ident / "userdata"
        directory.mkdir(parents=True)
        (directory / "config.json").write_text(json.dumps({"annotations": annotations}))
    records = RuntimeRecords(str(root))
    depth, record = records.find("/kubepods.slice/crio-%s.scope" % CRI_ID)
    assert (depth, record["runtime"], record["pod_name"], record["name"]) == (2, "cri-o", "web-0", "nginx")
    assert records.find("/machine.slice/libpod-%s.scope" % DOCKER_ID) is None


def test_no_runtime_state_means_no_records(tmp_path):
    assert len(RuntimeRecords(str(tmp_path))) == 0
    assert RuntimeRecords(str(tmp_path)).find("/kubepods/besteffort/pod%s/%s" % (POD_UID, CRI_ID)) is None


def test_the_root_steps_export_names_pods_for_the_unprivileged_run(tmp_path):
    from zombie_reaper.cli import main
    bundle(tmp_path / "root", CRI_ID, CRI_ANNOTATIONS)
    exported = tmp_path / "state" / "runtime-records.json"
    exported.parent.mkdir()
    assert main(["--export-runtime-records", str(exported), "--runtime-state-root", str(tmp_path / "root")]) == 0
    assert oct(exported.stat().st_mode & 0o777) == "0o644"
    tenant(tmp_path, "4:pids:/kubepods/besteffort/pod%s/%s\n" % (POD_UID, CRI_ID))
    policy = Policy.from_options(proc_root=str(tmp_path / "proc"), runtime_state_root=str(tmp_path / "nothing"),
                                 runtime_records=str(exported), confirm_seconds=0)
    container = run(policy, mode=MODE_INFO)["parents"][-1]["container"]
    assert (container["pod_name"], container["image"], container["source"]) == ("etcd-0", CRI_ANNOTATIONS[
        "io.kubernetes.cri.image-name"], "runtime record")
    # an export someone else could have written, or of another layout, names nothing
    os.chmod(str(exported), 0o666)
    assert len(RuntimeRecords(exported=str(exported))) == 0
    exported.write_text(json.dumps({"version": 99, "records": {}}))
    os.chmod(str(exported), 0o644)
    assert len(RuntimeRecords(exported=str(exported))) == 0


def test_a_hand_named_container_matching_a_host_unit_does_not_unprotect_the_host_daemon(tmp_path):
    # `ctr run ... sshd.service` (no CRI record): its id equals the host sshd's cgroup component
    bundle(tmp_path / "root", "sshd.service", {}, namespace="default")
    tenant(tmp_path, "0::/system.slice/sshd.service\n", comm="sshd", nspid="20")
    parent = report_for(tmp_path)
    assert parent["class"] == "protected_daemon" and parent["outcome"] == "protected", parent
