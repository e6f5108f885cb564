# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One pass over the process table: every zombie, filed under its parent."""

import os

from .errors import ReaperError
from .procfs import clock_ticks
from .visibility import hidden_processes_reason


class Zombie(object):
    __slots__ = ("pid", "ppid", "starttime", "comm")

    def __init__(self, pid, ppid, starttime, comm):
        self.pid = pid
        self.ppid = ppid
        self.starttime = starttime
        self.comm = comm

    @property
    def key(self):
        """Identity across runs (pid and start time), as the state file keeps it."""
        return "%d:%d" % (self.pid, self.starttime)


class Scan(object):
    """What one pass over the process table found."""

    def __init__(self):
        self.processes = 0
        self.zombies_by_parent = {}  # ppid -> [Zombie]
        self.zombie_leaders_with_threads = 0
        self.ppid_of = None  # pid -> ppid for every process, only when a subtree limit needs it
        self.seconds = 0.0  # how long the pass took


def _open_proc(proc_root):
    """A directory fd on proc_root and its numeric entries (as names: no int/str round trip)."""
    try:
        proc_fd = os.open(proc_root, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise ReaperError("cannot read %s: %s" % (proc_root, exc.strerror or exc)) from None
    try:
        names = [n for n in os.listdir(proc_fd) if n.isdigit()]
    except OSError as exc:
        os.close(proc_fd)
        raise ReaperError("cannot read %s: %s" % (proc_root, exc.strerror or exc)) from None
    if not names:
        os.close(proc_fd)
        raise ReaperError("%s lists no processes: is procfs mounted there?" % proc_root)
    hidden = hidden_processes_reason(proc_root)
    if hidden:
        os.close(proc_fd)
        raise ReaperError(hidden)
    return proc_fd, names


def scan_procfs(proc_root="/proc", want_ppids=False):
    """One pass over every numeric /proc entry.

    Cheap per process (one open/read/close of ``stat``, the state byte checked first);
    only zombies are parsed in full. Entries that vanish mid-scan are skipped.
    """
    scan = Scan()
    proc_fd, names = _open_proc(proc_root)
    scan.processes = len(names)
    ppid_of = {} if want_ppids else None
    o_rdonly = os.O_RDONLY
    os_open, os_read, os_close = os.open, os.read, os.close
    try:
        for name in names:
            try:
                # relative to the directory fd: a shorter path walk for the kernel, as openat() in C
                fd = os_open(name + "/stat", o_rdonly, dir_fd=proc_fd)
            except OSError:
                continue
            try:
                data = os_read(fd, 1024)
            except OSError:
                continue
            finally:
                os_close(fd)
            right = data.rfind(b")")
            if right < 0:
                continue
            if ppid_of is not None:
                ppid_of[int(name)] = int(data[right + 4:data.find(b" ", right + 4)])
            if data[right + 2:right + 3] == b"Z":
                file_zombie(scan, int(name), data, right)
    finally:
        os_close(proc_fd)
    scan.ppid_of = ppid_of
    return scan


def file_zombie(scan, pid, data, right):
    """Parse a zombie's stat line in full and file it under its parent."""
    try:
        fields = data[right + 2:].split()
        ppid = int(fields[1])
        if int(fields[17]) > 1:
            # A thread-group leader that exited while other threads run:
            # shown as Z, but no wait() can collect it until they end.
            scan.zombie_leaders_with_threads += 1
            return
        zombie = Zombie(pid, ppid, int(fields[19]), data[data.find(b"(") + 1:right].decode("utf-8", "replace"))
    except (IndexError, ValueError):
        return
    group = scan.zombies_by_parent.get(ppid)
    if group is None:
        scan.zombies_by_parent[ppid] = [zombie]
    else:
        group.append(zombie)


def scan_psutil(proc_root="/proc", want_ppids=False):
    """The same pass through psutil (optional dependency on the node)."""
    psutil = _import_psutil()
    if proc_root != "/proc":
        psutil.PROCFS_PATH = proc_root
    scan = Scan()
    ppid_of = {} if want_ppids else None
    boot = psutil.boot_time()
    ticks = clock_ticks()
    count = 0
    for proc in psutil.process_iter(["ppid", "status", "create_time", "name", "num_threads"]):
        info = proc.info
        if info["ppid"] is None:
            continue
        count += 1
        if ppid_of is not None:
            ppid_of[proc.pid] = info["ppid"]
        if info["status"] != psutil.STATUS_ZOMBIE:
            continue
        if (info["num_threads"] or 1) > 1:
            scan.zombie_leaders_with_threads += 1
            continue
        starttime = int(round((info["create_time"] - boot) * ticks))
        scan.zombies_by_parent.setdefault(info["ppid"], []).append(
            Zombie(proc.pid, info["ppid"], starttime, info["name"] or ""))
    scan.processes = count
    scan.ppid_of = ppid_of
    return scan


def _import_psutil():
    """psutil, also when the node command runs without site-packages on sys.path (python3 -S)."""
    try:
        import psutil  # pylint: disable=import-outside-toplevel
        return psutil
    except ImportError:
        pass
    import site  # pylint: disable=import-outside-toplevel
    site.main()
    try:
        import psutil  # pylint: disable=import-outside-toplevel,redefined-outer-name
        return psutil
    except ImportError:
        raise ReaperError("backend 'psutil' needs the psutil package on the node (pip install psutil)") from None


SCANNERS = {"procfs": scan_procfs, "psutil": scan_psutil}
