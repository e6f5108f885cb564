"""Parsing, attribution and classification on fixture data (no process is signalled)."""

import json
import os

import pytest

from conftest import zombie_reaper as zr

DOCKER_ID = "4f" * 32
CRI_ID = "a1b2c3d4" * 8
POD_UID = "1c3e7a52-9a0b-4f44-8c3c-0123456789ab"


def stat_line(pid, comm, state="S", ppid=1, flags=0x400000, threads=1, starttime=12345):
    fields = [state, ppid, pid, pid, 0, -1, flags] + [0] * 10 + [threads, 0, starttime] + [0] * 30
    return "%d (%s) %s\n" % (pid, comm, " ".join(str(f) for f in fields))


@pytest.mark.parametrize("comm", ["sshd", "a b c", "evil) S 1 2", "new\nline", "((", ")"])
def test_parse_stat_survives_hostile_names(comm):
    parsed = zr.parse_stat(stat_line(42, comm, state="Z", ppid=7, starttime=999))
    assert parsed["comm"] == comm
    assert (parsed["pid"], parsed["state"], parsed["ppid"], parsed["starttime"]) == (42, "Z", 7, 999)


def test_parse_stat_rejects_garbage():
    with pytest.raises(ValueError):
        zr.parse_stat("12 no parens here")
    with pytest.raises(ValueError):
        zr.parse_stat("12 (x) S 1")


def test_parse_status_signal_masks_and_nspid():
    text = "Name:\tsleep\nUid:\t0\t0\t0\t0\nNSpid:\t4242\t1\nSigIgn:\t0000000000004000\nSigCgt:\t0000000000010000\n"
    info = zr.parse_status(text)
    assert info["NSpid"] == [4242, 1]
    assert zr.signal_bit(info["SigCgt"], 17)  # SIGCHLD caught
    assert zr.signal_bit(info["SigIgn"], 15)  # SIGTERM ignored
    assert not zr.signal_bit(info["SigCgt"], 15)


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
    result = zr.parse_cgroup(text)
    assert (result["runtime"], result["id"], result["pod_uid"]) == (runtime, cid, pod)


def test_parse_cgroup_marks_conmon_scope_as_runtime_side():
    result = zr.parse_cgroup("0::/machine.slice/libpod-conmon-%s.scope\n" % CRI_ID)
    assert result["runtime_side"] and result["id"] is None


@pytest.mark.parametrize("text, expected", [
    ("SIGCHLD:15,SIGTERM:15,SIGKILL:5", [("SIGCHLD", 15), ("SIGTERM", 15), ("SIGKILL", 5)]),
    ("term:1.5, kill:0", [("SIGTERM", 1.5), ("SIGKILL", 0)]),
    ([{"signal": "SIGHUP", "wait": 3}, "9:1"], [("SIGHUP", 3), ("SIGKILL", 1)]),
])
def test_parse_ladder(text, expected):
    assert [(r.action, r.wait) for r in zr.parse_ladder(text)] == expected


BAD_LADDERS = ["SIGNOPE:1", "SIGTERM", "SIGTERM:x", "SIGTERM:-2", [], [{"signal": "SIGTERM", "oops": 1}],
               "SIGSTOP:1", 42, "SIGCHLD:1,REAP:2", "REAP:1,REAP:2"]


@pytest.mark.parametrize("bad", BAD_LADDERS)
def test_parse_ladder_rejects_bad_rungs(bad):
    with pytest.raises(zr.ConfigError):
        zr.parse_ladder(bad)


def test_reap_is_one_switch_that_puts_the_rung_first():
    plain = zr.Policy.from_options()
    assert not plain.reaps_in_place
    switched = zr.Policy.from_options(reap="yes")
    assert [repr(r) for r in switched.ladder] == ["REAP:2", "SIGCHLD:15", "SIGTERM:15", "SIGKILL:5"]
    assert switched.ladder[0].gentle and switched.ladder[0].signum is None
    explicit = zr.Policy.from_options(reap=True, ladder="REAP:4,SIGKILL:1")
    assert [repr(r) for r in explicit.ladder] == ["REAP:4", "SIGKILL:1"]
    assert zr.Policy.from_options(ladder=[{"signal": "reap", "wait": 1}]).reaps_in_place
    with pytest.raises(zr.ConfigError, match="reap must be true or false"):
        zr.Policy.from_options(reap="sometimes")
    with pytest.raises(zr.ConfigError, match="reap_min_age_seconds"):
        zr.Policy.from_options(reap=True, reap_min_age_seconds=-1)


def test_policy_names_the_bad_value():
    with pytest.raises(zr.ConfigError, match="max_parents must be a whole number, got 'lots'"):
        zr.Policy.from_options(max_parents="lots")
    with pytest.raises(zr.ConfigError, match="unknown option"):
        zr.Policy.from_options(colour="blue")
    with pytest.raises(zr.ConfigError, match="protect must be a list"):
        zr.Policy.from_options(protect=[""])


def make_parent(pid=100, comm="app", nspid=None, cgroup="0::/user.slice\n", flags=0, ppid=50, cmdline="",
                caught=0, ignored=0):
    parent = zr.Parent(pid)
    parent.comm = comm
    parent.ppid = ppid
    parent.flags = flags
    parent.cmdline = cmdline or comm
    parent.nspid = nspid or [pid]
    parent.cgroup = zr.parse_cgroup(cgroup)
    parent.sig_caught = caught
    parent.sig_ignored = ignored
    parent.starttime = 1
    return parent


@pytest.mark.parametrize("parent, expected", [
    (make_parent(pid=1, comm="systemd"), zr.CLASS_HOST_INIT),
    (make_parent(comm="kworker/0:1", flags=zr.PF_KTHREAD), zr.CLASS_KERNEL_THREAD),
    # in a PID namespace, pid 2 and its children are ordinary processes
    (make_parent(pid=2, comm="bash", ppid=1), zr.CLASS_HOST_PROCESS),
    (make_parent(pid=5, comm="app", ppid=2), zr.CLASS_HOST_PROCESS),
    (make_parent(comm="containerd-shim", cmdline="/usr/bin/containerd-shim-runc-v2 -id x"), zr.CLASS_RUNTIME),
    (make_parent(comm="conmon"), zr.CLASS_RUNTIME),
    (make_parent(comm="sshd"), zr.CLASS_PROTECTED),
    (make_parent(comm="systemd-journal"), zr.CLASS_PROTECTED),
    (make_parent(comm="bash", nspid=[4242, 1]), zr.CLASS_CONTAINER_INIT),
    # a tenant cannot borrow protection by naming its PID 1 like a host daemon or runtime
    (make_parent(comm="sshd", nspid=[4242, 1]), zr.CLASS_CONTAINER_INIT),
    (make_parent(comm="containerd-shim", nspid=[4243, 7]), zr.CLASS_CONTAINER_PROCESS),
    (make_parent(comm="node", cgroup="0::/system.slice/docker-%s.scope\n" % DOCKER_ID), zr.CLASS_CONTAINER_PROCESS),
    (make_parent(comm="python3"), zr.CLASS_HOST_PROCESS),
])
def test_classify(parent, expected):
    assert zr.classify(parent, reaper_lineage=set(), user_patterns=[]) == expected


def test_classify_reaper_lineage_and_user_patterns():
    assert zr.classify(make_parent(pid=77), {77}, []) == zr.CLASS_REAPER
    assert zr.classify(make_parent(comm="my-agent"), set(), ["my-*"]) == zr.CLASS_PROTECTED
    # name patterns do not reach into tenant namespaces, attribution patterns do
    tenant = make_parent(comm="my-agent", nspid=[9, 1], cgroup="0::/system.slice/docker-%s.scope\n" % DOCKER_ID)
    assert zr.classify(tenant, set(), ["my-*"]) == zr.CLASS_CONTAINER_INIT
    assert zr.classify(tenant, set(), ["container:" + DOCKER_ID[:12]]) == zr.CLASS_PROTECTED


def test_rung_skips_what_cannot_work():
    sigchld, sigterm, sigkill = zr.parse_ladder("SIGCHLD:1,SIGTERM:1,SIGKILL:1")
    plain = make_parent()
    assert "not caught" in sigchld.skip_reason(plain)
    assert sigterm.skip_reason(plain) is None
    ns_init = make_parent(nspid=[5, 1])
    assert "namespace init" in sigterm.skip_reason(ns_init)
    assert sigkill.skip_reason(ns_init) is None
    handler = make_parent(nspid=[5, 1], caught=(1 << 16) | (1 << 14))  # SIGCHLD and SIGTERM caught
    assert sigchld.skip_reason(handler) is None and sigterm.skip_reason(handler) is None
    assert "ignored" in sigterm.skip_reason(make_parent(ignored=1 << 14))


def write_proc_tree(root, processes, loadavg="0.0 0.0 0.0 1/300 999\n"):
    """A fixture /proc: processes are (pid, comm, state, ppid, extra) with extra status/cgroup text."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "loadavg").write_text(loadavg)
    (root / "sys" / "kernel").mkdir(parents=True)
    (root / "sys" / "kernel" / "pid_max").write_text("4194304\n")
    (root / "sys" / "kernel" / "threads-max").write_text("1000000\n")
    for pid, comm, state, ppid, extra in processes:
        directory = root / str(pid)
        directory.mkdir()
        (directory / "stat").write_text(stat_line(pid, comm, state=state, ppid=ppid,
                                                  threads=extra.get("threads", 1),
                                                  starttime=extra.get("starttime", pid * 10)))
        (directory / "status").write_text("Name:\t%s\nUid:\t0\t0\t0\t0\nNSpid:\t%s\nSigCgt:\t0\nSigIgn:\t0\n"
                                          % (comm, extra.get("nspid", str(pid))))
        (directory / "cgroup").write_text(extra.get("cgroup", "0::/\n"))
        (directory / "cmdline").write_text(extra.get("cmdline", comm) + "\0")
    (root / "self").mkdir()


def test_fixture_proc_tree_groups_and_attributes(tmp_path):
    cgroup = ("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/cri-containerd-%s.scope\n"
              % (POD_UID.replace("-", "_"), CRI_ID))
    processes = [
        (1, "systemd", "S", 0, {}),
        (10, "containerd-shim", "S", 1, {"cmdline": "/usr/bin/containerd-shim-runc-v2 -id x"}),
        (20, "bash", "S", 10, {"nspid": "20\t1", "cgroup": cgroup}),
        (30, "defunct host) Z", "Z", 1, {}),
        (40, "worker", "Z", 1, {"threads": 3}),  # leader exited, threads live on: not a zombie to reap
    ]
    processes += [(100 + i, "sshd", "Z", 20, {"cgroup": cgroup}) for i in range(5)]
    processes += [(200, "haproxy", "Z", 20, {"cgroup": cgroup}), (300, "sh", "Z", 10, {})]
    write_proc_tree(tmp_path / "proc", processes)
    pods = tmp_path / "pods"
    (pods / ("tenant-a_web-7d9_%s" % POD_UID)).mkdir(parents=True)
    policy = zr.Policy.from_options(proc_root=str(tmp_path / "proc"), pods_log_dir=str(pods), confirm_seconds=0)
    report = zr.run(policy, mode="info")
    assert report["zombies"] == 8
    assert report["zombie_leaders_with_threads"] == 1
    by_pid = {p["pid"]: p for p in report["parents"]}
    assert set(by_pid) == {1, 10, 20}
    tenant = by_pid[20]
    assert tenant["class"] == "container_init"
    assert tenant["zombies"] == 6 and tenant["zombie_names"] == {"sshd": 5, "haproxy": 1}
    assert tenant["container"]["runtime"] == "containerd" and tenant["container"]["id"] == CRI_ID
    assert (tenant["container"]["pod_namespace"], tenant["container"]["pod_name"]) == ("tenant-a", "web-7d9")
    assert tenant["outcome"] == "eligible"
    assert by_pid[1]["class"] == "host_init" and by_pid[1]["outcome"] == "protected"
    assert by_pid[10]["class"] == "container_runtime" and by_pid[10]["outcome"] == "protected"
    assert report["pids"]["threads"] == 300 and report["pids"]["pid_max"] == 4194304
    assert report["parents"][0]["pid"] == 20  # worst offender first


def test_limit_container_confines_the_run(tmp_path):
    processes = [(1, "systemd", "S", 0, {}),
                 (20, "bash", "S", 1, {"nspid": "20\t1", "cgroup": "0::/system.slice/docker-%s.scope\n" % DOCKER_ID}),
                 (21, "sshd", "Z", 20, {}), (30, "app", "S", 1, {"nspid": "30\t1"}), (31, "sshd", "Z", 30, {})]
    write_proc_tree(tmp_path / "proc", processes)
    policy = zr.Policy.from_options(proc_root=str(tmp_path / "proc"), confirm_seconds=0,
                                    limit_container=DOCKER_ID[:12])
    report = zr.run(policy, mode="info")
    assert [p["pid"] for p in report["parents"]] == [20]
    assert report["zombies_outside_limit"] == 1


def test_state_file_with_wrong_layout_is_replaced(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"version": 1, "first_seen": [], "escalated": {}}))
    state = zr.State(str(path))
    assert "unexpected layout" in state.warning and state.first_seen == {}
    state.save(set(), 100.0, 10)
    assert json.loads(path.read_text()) == {"version": 1, "first_seen": {}, "escalated": {}}
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def test_summary_mentions_every_parent(tmp_path):
    processes = [(1, "systemd", "S", 0, {}), (5, "tenant", "S", 1, {"nspid": "5\t1"}), (6, "sshd", "Z", 5, {})]
    write_proc_tree(tmp_path / "proc", processes)
    report = zr.run(zr.Policy.from_options(proc_root=str(tmp_path / "proc"), confirm_seconds=0), mode="info")
    text = zr.format_summary(report)
    assert "1 zombies under 1 parents" in text
    assert "container_init" in text and "eligible" in text
