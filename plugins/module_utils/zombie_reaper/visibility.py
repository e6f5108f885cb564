# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether this process sees every process in a /proc mounted with hidepid (else a scan undercounts)."""

import os
import re

from .procfs import CAP_SYS_PTRACE, has_capability, read_whole_file

# hidepid as the kernel prints it: names since Linux 5.8, numbers before. "ptraceable" (4) hides only
# what this process could not trace, which CAP_SYS_PTRACE can.
_OCTAL = re.compile(r"\\([0-7]{3})")
HIDING = ("1", "2", "4", "noaccess", "invisible", "ptraceable")


def proc_mount_options(proc_root):
    """The superblock options of the procfs mounted at ``proc_root`` ({} when none is found there)."""
    target = os.path.realpath(proc_root)
    found = {}
    for line in (read_whole_file("/proc/self/mountinfo") or b"").decode("utf-8", "replace").splitlines():
        fields = line.split(" ")
        # mountinfo writes a space, tab, newline or backslash in a path as an octal escape (\040)
        if " - " not in line or len(fields) < 5 or _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), fields[4]) != target:
            continue
        after = line.split(" - ", 1)[1].split(" ")
        if after[0] == "proc" and len(after) >= 3:
            found = dict(o.partition("=")[::2] for o in after[2].split(","))  # the last mount there wins
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
