# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One round of REAP on one thread: seize, stop, inject a wait4 per zombie, restore, detach.

At most REAP_ROUND_SECONDS of stop; then the parent runs again. The calls are injected from the code
cave (injection.py), so that the parent survives the reaper's own death at any moment of the round."""

import errno
import os
import time
from collections import deque

from ..ladder import REAP_ROUND_SECONDS
from ..procfs import read_stat, zombie_still_there
from .arch import current
from .injection import reap_through_cave
from .memory import in_rseq_critical_section
from .ptrace import (JOB_CONTROL_STOPS, PTRACE_EVENT_STOP, PTRACE_INTERRUPT, PTRACE_SYSCALL, PTRACE_SYSCALL_INFO_ENTRY,
                     PTRACE_SYSCALL_INFO_EXIT, WAIT_ALL_THREADS, ptrace, read_memory, signed)
from .refusal import ReapRefused, RseqBusy
from .tracee import ABANDONED, Tracee

REAP_STOP_TIMEOUT = 0.2  # how long the parent gets to reach the interrupt stop
REAP_PIN_THRESHOLD = 32  # above this many zombies, tracer and tracee share one CPU (fewer cross-CPU wake-ups)


class Round(object):
    """One attach-inject-detach cycle on one thread of ``parent``."""

    def __init__(self, proc_root, parent, tid, targets, seccomp):
        self.proc_root = proc_root
        self.parent = parent
        self.targets = targets  # [(zombie, pid in the parent's namespace)]
        self.seccomp = seccomp
        self.tracee = Tracee(proc_root, parent.pid, tid, current())
        self.reaped = []
        self.stopped_seconds = 0.0
        self.stopped_at = None  # when the parent reached the interrupt stop (the round's budget runs from here)
        self.attempted = 0  # wait4 calls begun this round
        self.saved = None  # the registers at the stop the calls are injected from
        self.final = None  # the registers to resume with (the kernel's restart decision applied)
        self.restarts = False  # aarch64, after the probe: the parent's own interrupted call runs again

    @property
    def pass_on_signal(self):
        return self.tracee.pass_on_signal

    def run(self):
        """Returns None (done or retry later) or raises ReapRefused (or RseqBusy)."""
        tracee = self.tracee
        tracee.seize(self.seccomp)
        stop = None
        try:
            status = tracee.interrupt(REAP_STOP_TIMEOUT)
            if status is None:
                ABANDONED.append(tracee.tid)
                raise ReapRefused("the parent did not stop within %d ms (uninterruptible sleep or vfork)"
                                  % (REAP_STOP_TIMEOUT * 1000))
            if not os.WIFSTOPPED(status):
                raise ReapRefused("the parent exited while being attached")
            stop = self.stopped_at = time.monotonic()
            signum, event = os.WSTOPSIG(status), status >> 16
            if event == PTRACE_EVENT_STOP and signum in JOB_CONTROL_STOPS:
                raise ReapRefused("the parent is stopped by job control")
            if event != PTRACE_EVENT_STOP:
                tracee.pass_on_signal = signum  # a signal was on its way in: deliver it and retry later
                return
            arch = tracee.arch
            regs = tracee.get_regs()
            code = read_memory(tracee.tid, arch.pc(regs), len(arch.syscall_insn))
            in_call = arch.in_system_call(regs, code)
            if arch.probes_restart and in_call:
                if not self._probe_restart(regs):
                    return
            else:
                self.saved, self.final = regs, arch.resume_point(regs)
            self._inject(in_call)
        finally:
            if stop is not None:
                self.stopped_seconds = time.monotonic() - stop
            tracee.detach()

    def _probe_restart(self, interrupted):
        """aarch64, stopped on an `svc`: the kernel decides about restart_syscall only when it resumes, and
        its return code is gone from the registers. So let it into the call, stop it there at once (the
        interrupt cuts the call short: its exit stop shows the return code) and take the registers to
        resume with from that (Aarch64.restart_point). Every stop on the way is one the parent resumes from
        by itself. False at a signal stop instead (the signal is passed on; the zombies wait a round)."""
        tracee = self.tracee
        if not tracee.resume(PTRACE_SYSCALL):
            return False
        tracee.syscall_stop(PTRACE_SYSCALL_INFO_ENTRY)
        ptrace(PTRACE_INTERRUPT, tracee.tid)
        if not tracee.resume(PTRACE_SYSCALL, REAP_STOP_TIMEOUT):
            return False
        result = signed(tracee.syscall_stop(PTRACE_SYSCALL_INFO_EXIT))
        self.saved = tracee.get_regs()
        self.final, self.restarts = tracee.arch.restart_point(interrupted, self.saved, result)
        return True

    def _inject(self, in_call):
        """``in_call``: stopped in (or on) a system call, so not inside an rseq critical section."""
        tracee = self.tracee
        read = read_stat(self.proc_root, self.parent.pid)
        if read is None or read["starttime"] != self.parent.starttime:
            raise ReapRefused("the parent's pid now belongs to another process")
        if not in_call:  # maybe in user space, in an rseq critical section
            inside = in_rseq_critical_section(tracee.tid, tracee.arch.pc(self.saved))
            if inside is None:
                raise ReapRefused("the parent was stopped in user space and this kernel cannot tell "
                                  "whether it sits in an rseq critical section")
            if inside:
                raise RseqBusy()
        targets = deque(self.targets)
        pinned = _pin_to_one_cpu(tracee.tid) if len(targets) > REAP_PIN_THRESHOLD else None
        try:
            reap_through_cave(self, targets)
        finally:
            _unpin(tracee.tid, pinned)

    def over(self, pending):
        """Nothing left, or the round's time is up (after at least one wait4, so every round makes progress)."""
        return not pending or (self.attempted and time.monotonic() - self.stopped_at > REAP_ROUND_SECONDS)

    def next_target(self, pending):
        """The next zombie that is still this parent's defunct child (checked while the parent is stopped,
        just before its wait4), or None."""
        while pending:
            zombie, nspid = pending.popleft()
            if zombie_still_there(self.proc_root, zombie) == self.parent.pid:
                self.attempted += 1
                return zombie, nspid
        return None

    @staticmethod
    def wait4_args(nspid):
        """wait4(<zombie>, NULL, WNOHANG|__WALL, NULL): by its pid, never -1 (a child that exits meanwhile
        stays the parent's to collect)."""
        return (nspid, 0, os.WNOHANG | WAIT_ALL_THREADS, 0)

    def record(self, zombie, nspid, result):
        if result == nspid:
            self.reaped.append(zombie)
        elif result not in (0, -errno.ECHILD):
            raise ReapRefused("wait4 in the parent failed: %s" % os.strerror(-result))


def _pin_to_one_cpu(tid):
    """Run tracer and tracee on one CPU; returns what to restore, or None when not possible."""
    try:
        theirs = os.sched_getaffinity(tid)
        ours = os.sched_getaffinity(0)
        common = sorted(theirs & ours)
        if not common:
            return None
        os.sched_setaffinity(0, {common[0]})
        try:
            os.sched_setaffinity(tid, {common[0]})
        except OSError:
            os.sched_setaffinity(0, ours)
            return None
        return theirs, ours
    except OSError:
        return None


def _unpin(tid, saved):
    if saved:
        theirs, ours = saved
        try:
            os.sched_setaffinity(tid, theirs)
        except OSError:
            pass
        os.sched_setaffinity(0, ours)
