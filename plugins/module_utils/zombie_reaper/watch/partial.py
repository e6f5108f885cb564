# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scan of a few parents only: their zombie children, read through /proc/PID/task/TID/children, so the
cost follows the parents that had exits, not the size of the process table."""

import os

from ..procfs import read_file, read_stat
from ..scan import Scan, file_zombie


class ChildrenUnlisted(Exception):
    """The kernel does not list children (built without CONFIG_PROC_CHILDREN): only a full scan will do."""


def children_of(proc_root, ppid):
    """Child pids of every thread of ``ppid`` (empty when it is gone)."""
    try:
        threads = os.listdir("%s/%d/task" % (proc_root, ppid))
    except OSError:
        return []
    pids = []
    for tid in threads:
        path = "%s/%d/task/%s/children" % (proc_root, ppid, tid)
        data = read_file(path, 1 << 24)
        if data is None:
            if not os.path.exists("%s/%d/task/%s" % (proc_root, ppid, tid)):
                continue  # the thread ended between the reads
            if not os.path.exists(path):
                raise ChildrenUnlisted("%s does not exist: the kernel lists no children" % path)
            continue
        pids.extend(int(pid) for pid in data.split())
    return pids


def scan_parents(proc_root, ppids, want_ppids=False):
    """A Scan holding the zombies of ``ppids`` only (``processes`` is None: it counted none). With
    ``want_ppids`` each parent's ancestry is filled in, all a subtree limit needs."""
    scan = Scan()
    scan.processes = None
    for ppid in ppids:
        for pid in children_of(proc_root, ppid):
            data = read_file("%s/%d/stat" % (proc_root, pid), 1024)
            if not data:
                continue
            right = data.rfind(b")")
            if right > 0 and data[right + 2:right + 3] == b"Z":
                file_zombie(scan, pid, data, right)
    if want_ppids:
        scan.ppid_of = {}
        for ppid in scan.zombies_by_parent:
            _ancestry(proc_root, ppid, scan.ppid_of)
    return scan


def _ancestry(proc_root, pid, ppid_of):
    while pid > 0 and pid not in ppid_of:
        stat = read_stat(proc_root, pid)
        ppid_of[pid] = stat["ppid"] if stat else 0
        pid = ppid_of[pid]
