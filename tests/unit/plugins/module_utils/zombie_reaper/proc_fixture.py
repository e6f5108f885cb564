"""Fixture data for the engine's unit tests: stat lines, a fake /proc tree, a parent without a process."""

from zombie_reaper.attribution import parse_cgroup
from zombie_reaper.parent import Parent

DOCKER_ID = "4f" * 32
CRI_ID = "a1b2c3d4" * 8
POD_UID = "1c3e7a52-9a0b-4f44-8c3c-0123456789ab"


def stat_line(pid, comm, state="S", ppid=1, flags=0x400000, threads=1, starttime=12345):
    fields = [state, ppid, pid, pid, 0, -1, flags] + [0] * 10 + [threads, 0, starttime] + [0] * 30
    return "%d (%s) %s\n" % (pid, comm, " ".join(str(f) for f in fields))


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
    (root / "self").symlink_to("999999")  # this process, as such a /proc would name it (not in the tree)


def make_parent(pid=100, comm="app", nspid=None, cgroup="0::/user.slice\n", flags=0, ppid=50, cmdline="",
                caught=0, ignored=0):
    parent = Parent(pid)
    parent.comm = comm
    parent.ppid = ppid
    parent.flags = flags
    parent.cmdline = cmdline or comm
    parent.nspid = nspid or [pid]
    parent.cgroup = parse_cgroup(cgroup)
    parent.sig_caught = caught
    parent.sig_ignored = ignored
    parent.starttime = 1
    return parent
