# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When REAP refuses a parent, checked without attaching (and without loading ctypes: zombie_info asks
this for every eligible parent)."""

import os

from ..procfs import CAP_SYS_ADMIN, CAP_SYS_PTRACE, has_capability, own_seccomp_mode, read_file, read_status

SUPPORTED_MACHINES = ("x86_64", "aarch64")


class ReapRefused(Exception):
    """The parent is left untouched (or exactly as it was); the reason goes into the report."""


class RseqBusy(Exception):
    """Stopped inside an rseq critical section: let it run and try again."""


def unsupported_reason():
    """Why this node cannot run the REAP rung at all, or None."""
    machine = os.uname().machine
    if machine not in SUPPORTED_MACHINES:
        return "architecture %s is not supported (x86_64 and aarch64 only)" % machine
    import importlib.util  # pylint: disable=import-outside-toplevel
    if importlib.util.find_spec("ctypes") is None:
        return "ctypes is not available"
    return None


def precheck(proc_root, parent):
    """Why REAP cannot work on ``parent`` right now (without attaching), or None."""
    return refusal(parent, read_status(proc_root, parent.pid))


def refusal(parent, info):
    """precheck on an already parsed status (None: the parent is gone)."""
    reason = unsupported_reason()
    if reason:
        return reason
    if info is None:
        return "the parent exited"
    if info.get("TracerPid"):
        return "the parent is already traced by pid %d (a debugger or strace)" % info["TracerPid"]
    if info.get("State") in ("T", "t"):
        return "the parent is stopped (job control or a debugger)"
    if info.get("Seccomp") == 1:
        return "the parent runs in seccomp strict mode; wait4 would kill it"
    if info.get("Seccomp") == 2:
        reason = _unsuspendable_reason()
        if reason:
            return "a seccomp filter could kill the parent on wait4 and it cannot be suspended: " + reason
    if not has_capability(CAP_SYS_PTRACE) and parent.uid != os.geteuid():
        return "ptrace is not permitted: CAP_SYS_PTRACE is missing"
    return None


def _unsuspendable_reason():
    """Why this reaper cannot use PTRACE_O_SUSPEND_SECCOMP, or None."""
    if not has_capability(CAP_SYS_ADMIN):
        return "PTRACE_O_SUSPEND_SECCOMP needs CAP_SYS_ADMIN (zombie_reaper_reap_seccomp)"
    if own_seccomp_mode():
        return ("this reaper runs under a seccomp filter of its own (a unit's SystemCallFilter, or hardening "
                "that systemd implements with one), and the kernel then refuses PTRACE_O_SUSPEND_SECCOMP")
    return None


def ptrace_denied_reason(exc):
    scope = read_file("/proc/sys/kernel/yama/ptrace_scope")
    extra = ""
    if scope:
        extra = ", Yama ptrace_scope is %s" % scope.decode().strip()
    return "ptrace is not permitted (%s%s; CAP_SYS_PTRACE, an LSM or the parent's dumpable flag)" % (
        exc.strerror, extra)
