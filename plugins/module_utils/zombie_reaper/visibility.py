# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether this process sees every process in a /proc mounted with hidepid (else a scan undercounts)."""

import os

from .procfs import CAP_SYS_PTRACE, has_capability, mounts

# hidepid as the kernel prints it: names since Linux 5.8, numbers before. "ptraceable" (4) hides only
# what this process could not trace, which CAP_SYS_PTRACE can.
HIDING = ("1", "2", "4", "noaccess", "invisible", "ptraceable")


def proc_mount_options(proc_root):
    """The superblock options of the procfs mounted at ``proc_root`` ({} when none is found there)."""
    target = os.path.realpath(proc_root)
    found = {}
    for mount_point, fstype, options in mounts():
        if mount_point == target and fstype == "proc":
            found = dict(o.partition("=")[::2] for o in options)  # the last mount there wins
    return found


def hidden_processes_reason(proc_root):
    """Why a scan of ``proc_root`` would miss other users' processes, or None when it sees them all."""
    options = proc_mount_options(proc_root)
    hidepid = options.get("hidepid", "0")
    if hidepid not in HIDING or has_capability(CAP_SYS_PTRACE):
        return None
    gid = options.get("gid")
    if gid and gid.isdigit() and (int(gid) == os.getegid() or int(gid) in os.getgroups()):
        return None
    return ("%s is mounted with hidepid=%s and this process (uid %d) has no CAP_SYS_PTRACE%s: it would see only "
            "its own processes and count the zombies wrong; run as root (become: true)" % (
                proc_root, hidepid, os.geteuid(), " nor group %s" % gid if gid else ""))
