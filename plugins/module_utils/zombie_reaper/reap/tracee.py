# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The seized thread: attach, stop, resume, syscall stops, detach. It owns its stop state."""

import errno
import os
import time

from .ptrace import (PTRACE_DETACH, PTRACE_EVENT_STOP, PTRACE_INTERRUPT, PTRACE_O_SUSPEND_SECCOMP,
                     PTRACE_O_TRACESYSGOOD, PTRACE_SEIZE, PTRACE_SYSCALL_INFO_ENTRY, SYSCALL_STOP, WAIT_ALL_THREADS,
                     ptrace, syscall_info)
from .refusal import ReapRefused, ptrace_denied_reason


def wait_stop(tid, timeout):
    """waitpid() status of the seized thread's next stop; None when it did not stop in time."""
    deadline = time.monotonic() + timeout
    pause = 0.00002
    while True:
        waited, status = os.waitpid(tid, os.WNOHANG | WAIT_ALL_THREADS)
        if waited:
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(pause)
        pause = min(pause * 2, 0.005)


class Tracee(object):
    """One thread of the parent, seized (PTRACE_SEIZE: no SIGSTOP, its own parent sees nothing)."""

    def __init__(self, proc_root, pid, tid, arch):
        self.proc_root = proc_root
        self.pid = pid
        self.tid = tid
        self.arch = arch
        self.pass_on_signal = 0  # a signal that was on its way in: delivered on detach
        self.at_entry = False  # stopped at a syscall-entry stop
        self.at_syscall_stop = False  # stopped at a syscall stop (else the interrupt or a signal stop)

    def seize(self, suspend_seccomp):
        options = PTRACE_O_TRACESYSGOOD | (PTRACE_O_SUSPEND_SECCOMP if suspend_seccomp else 0)
        try:
            ptrace(PTRACE_SEIZE, self.tid, 0, options)
        except OSError as exc:
            if exc.errno == errno.ESRCH:
                raise ReapRefused("the parent exited") from None
            if exc.errno == errno.EPERM and suspend_seccomp:
                raise ReapRefused("a seccomp filter could kill the parent on wait4 and the kernel refused to "
                                  "suspend it (PTRACE_O_SUSPEND_SECCOMP: %s)" % exc.strerror) from None
            raise ReapRefused(ptrace_denied_reason(exc)) from None

    def interrupt(self, timeout):
        """Stop it (PTRACE_INTERRUPT). Returns the stop status, or None when it did not stop in time."""
        ptrace(PTRACE_INTERRUPT, self.tid)
        return wait_stop(self.tid, timeout)

    def get_regs(self):
        return self.arch.get_regs(self.tid)

    def set_regs(self, regs):
        self.arch.set_regs(self.tid, regs)

    def step(self, request, timeout=None, signum=0):
        """Resume with ``request`` (and ``signum``) and wait for the next stop; returns its status. With a
        timeout: ReapRefused when it did not stop in time (it is then abandoned: released once it stops)."""
        ptrace(request, self.tid, 0, signum)
        if timeout is None:
            _waited, status = os.waitpid(self.tid, WAIT_ALL_THREADS)
        else:
            status = wait_stop(self.tid, timeout)
            if status is None:
                ABANDONED.append(self.tid)
                raise ReapRefused("the parent did not stop again within %d ms" % (timeout * 1000))
        if not os.WIFSTOPPED(status):
            raise ReapRefused("the parent exited while its zombies were being reaped")
        return status

    def resume(self, request, timeout=None, signum=0):
        """Resume to the next stop: True at a syscall stop, False at another stop (a signal's: passed on)."""
        status = self.step(request, timeout, signum)
        self.at_entry = False
        self.at_syscall_stop = os.WSTOPSIG(status) == SYSCALL_STOP
        if self.at_syscall_stop:
            return True
        if status >> 16 == 0:
            self.pass_on_signal = os.WSTOPSIG(status)
        return False

    def syscall_stop(self, want):
        """The number (entry) or return value (exit) at a syscall stop of kind ``want``."""
        try:
            info = syscall_info(self.tid)
        except OSError as exc:
            raise ReapRefused("this kernel cannot describe syscall stops (PTRACE_GET_SYSCALL_INFO: %s)"
                              % exc.strerror) from None
        self.at_entry = info.op == PTRACE_SYSCALL_INFO_ENTRY
        if info.op != want:
            raise ReapRefused("the parent stopped at an unexpected point (syscall stop %d)" % info.op)
        return info.nr_or_rval

    def detach(self):
        try:
            ptrace(PTRACE_DETACH, self.tid, 0, self.pass_on_signal)
        except OSError:
            pass  # not stopped (abandoned; the kernel detaches when we exit) or gone


# Threads that did not stop in time; released once they stop (or when this process exits).
ABANDONED = []


def release_abandoned():
    for tid in list(ABANDONED):
        try:
            waited, status = os.waitpid(tid, os.WNOHANG | WAIT_ALL_THREADS)
        except ChildProcessError:
            ABANDONED.remove(tid)
            continue
        if waited and os.WIFSTOPPED(status):
            signum = 0 if status >> 16 == PTRACE_EVENT_STOP else os.WSTOPSIG(status)
            try:
                ptrace(PTRACE_DETACH, tid, 0, signum)
            except OSError:
                pass
            ABANDONED.remove(tid)
        elif waited:
            ABANDONED.remove(tid)
