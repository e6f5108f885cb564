# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Injection by syscall stops (aarch64 always, x86_64 when SIGTRAP is blocked or ignored).

Each wait4 runs between its own entry and exit stops (PTRACE_SYSCALL), no signal involved. From the first
entry on, the parent's signals are held blocked (PTRACE_SETSIGMASK) and its own mask is put back before
detaching, so a signal that arrives meanwhile stays pending and reaches the parent afterwards, exactly as
it would have without us.

The aarch64 restart: a parent stopped on an `svc` is let into that system call first; at its entry stop
the call is swapped for wait4 (NT_ARM_SYSTEM_CALL); at the end its registers, with the number the kernel
chose, are put back on the `svc`, and it is detached at the entry stop of that same call, which then runs
(and sees any pending signal) as it would have."""

from .ptrace import NO_SYSCALL, PTRACE_SYSCALL, PTRACE_SYSCALL_INFO_ENTRY, PTRACE_SYSCALL_INFO_EXIT, copy, signed
from .refusal import ReapRefused

SIGNAL_CHECK_EVERY = 32  # look for a held signal every this many zombies


def by_syscall_stops(round_, saved, gadget, targets, on_syscall_insn):
    """Two stops per zombie; the round ends early when a held signal waits."""
    tracee = round_.tracee
    arch = tracee.arch
    final = copy(saved)  # what the parent resumes with
    work = copy(saved)
    reenter = None  # aarch64 on an `svc`: the call to let it re-enter at the end
    pending = targets
    try:
        first = round_.next_target(pending) if on_syscall_insn else None
        if first:
            if not tracee.resume(PTRACE_SYSCALL):
                return  # a signal was on its way in: nothing changed, it is passed on
            reenter = tracee.syscall_stop(PTRACE_SYSCALL_INFO_ENTRY)
            _swap_own_call_for_wait4(round_, saved, final, work, first)
        while not round_.over(pending):
            if len(pending) % SIGNAL_CHECK_EVERY == 0 and tracee.signal_waiting():
                break  # end the round: the held signal reaches the parent now, not after 200 ms
            target = round_.load_next_call(pending, work, saved, gadget)
            if target is None:
                break
            zombie, nspid = target
            if not tracee.resume(PTRACE_SYSCALL):
                return  # a signal came before the first entry (its mask not held yet): passed on
            if tracee.syscall_stop(PTRACE_SYSCALL_INFO_ENTRY) != arch.nr_wait4:
                raise ReapRefused("the parent entered another system call than the injected wait4")
            tracee.hold_signals()
            _finish_wait4(round_, zombie, nspid)
    finally:
        _leave(tracee, final, reenter)


def _swap_own_call_for_wait4(round_, saved, final, work, first):
    """aarch64, at the entry stop of the call the kernel let it (re)start (its number may now be
    restart_syscall): keep that number for the end, and run the first wait4 in its place."""
    tracee = round_.tracee
    arch = tracee.arch
    arch.set_saved_syscall_number(final, arch.syscall_number(tracee.get_regs()))
    tracee.hold_signals()
    zombie, nspid = first
    arch.set_call(work, arch.pc(saved) + len(arch.syscall_insn), arch.nr_wait4, round_.wait4_args(nspid))
    tracee.set_regs(work)
    arch.set_syscall_number(tracee.tid, arch.nr_wait4)
    _finish_wait4(round_, zombie, nspid)


def _finish_wait4(round_, zombie, nspid):
    """From the injected wait4's entry stop to its exit stop."""
    tracee = round_.tracee
    if not tracee.resume(PTRACE_SYSCALL):
        raise ReapRefused("the parent stopped for a signal inside the injected wait4")
    round_.record(zombie, nspid, signed(tracee.syscall_stop(PTRACE_SYSCALL_INFO_EXIT)))


def _leave(tracee, final, reenter):
    """Put the parent back as it was: at its own `svc` (re-entered, aarch64) or exactly as saved."""
    arch = tracee.arch
    try:
        if tracee.at_entry:  # skip the call it is entering; leave from its exit stop
            arch.set_syscall_number(tracee.tid, NO_SYSCALL)
            if not tracee.resume(PTRACE_SYSCALL):
                reenter = None  # at a signal stop now: leave from there
        tracee.restore(final)
        if arch.clears_syscall_number_on_leave:
            arch.set_syscall_number(tracee.tid, NO_SYSCALL)  # no restart decision on our wait4's return
        if reenter is not None and tracee.at_syscall_stop and tracee.resume(PTRACE_SYSCALL):
            # Detach at the entry stop of its own call, which then runs (and meets any pending signal)
            # exactly as it would have.
            tracee.syscall_stop(PTRACE_SYSCALL_INFO_ENTRY)
            tracee.at_entry = False
    except (OSError, ReapRefused):
        pass  # it was killed meanwhile (SIGKILL cannot be held off)
