# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The injected wait4 calls, made so that the parent never depends on the reaper to get back.

Before the first call, the cave (cave.py) gets the resume code: a system call instruction followed by
code that loads every saved register and jumps back to where the parent was, the kernel's restart
decision already applied (x86_64: the interrupted call again, or restart_syscall; aarch64: the call
the probe saw). Each wait4 is started by pointing the parent's registers at that instruction, one
PTRACE_SETREGS. From then on, at every stop, the parent resumes correctly on its own if the reaper
vanishes: the pending wait4 (or none) runs, the resume code puts everything back, the parent carries
on. Nothing else is left behind: no trap flag (no single steps), no signal mask (signals are never
held; one that arrives ends the round and is delivered from the parent's own registers), no
rt_sigreturn (which would end a restart block: a nanosleep would come back early with EINTR).

When the reaper lives, it puts the registers back itself at the last exit stop and restores the cave."""

from .cave import find_cave
from .ptrace import (NO_SYSCALL, PTRACE_SYSCALL, PTRACE_SYSCALL_INFO_ENTRY, PTRACE_SYSCALL_INFO_EXIT, copy,
                     get_siginfo, set_siginfo, signed)
from .refusal import ReapRefused


def reap_through_cave(round_, targets):
    """One round of wait4 calls from the cave, injected from the stop where ``round_.saved`` was read; the
    parent resumes with ``round_.final``."""
    tracee = round_.tracee
    arch = tracee.arch
    saved, final = round_.saved, round_.final
    target = round_.next_target(targets)
    if target is None:
        return
    cave = find_cave(round_.proc_root, round_.parent.pid, tracee.tid, arch.cave_size, arch.pc(final),
                     arch.cave_reach)
    if cave is None:
        raise ReapRefused("no room for the resume code at the end of the parent's executable segments")
    cave.install(arch.resume_code(cave.address, final))
    work = copy(saved)
    entered = False
    try:
        while target is not None:
            zombie, nspid = target
            arch.enter_cave(work, cave.address, arch.nr_wait4, round_.wait4_args(nspid))
            tracee.set_regs(work)
            entered = True  # from here on, the parent gets back on its own
            if not tracee.resume(PTRACE_SYSCALL):
                break  # a signal: delivered from its own registers (see _leave)
            if tracee.syscall_stop(PTRACE_SYSCALL_INFO_ENTRY) != arch.nr_wait4:
                raise ReapRefused("the parent entered another system call than the injected wait4")
            if not tracee.resume(PTRACE_SYSCALL):
                raise ReapRefused("the parent stopped for a signal inside the injected wait4")
            round_.record(zombie, nspid, signed(tracee.syscall_stop(PTRACE_SYSCALL_INFO_EXIT)))
            target = None if round_.over(targets) else round_.next_target(targets)
    finally:
        if entered:
            _leave(round_)
        cave.remove()


def _leave(round_):
    """Put the registers back while the reaper still can (the resume code would otherwise do it)."""
    tracee, saved, final = round_.tracee, round_.saved, round_.final
    arch = tracee.arch
    try:
        if tracee.at_syscall_stop and tracee.at_entry:  # skip the call it is entering
            arch.set_syscall_number(tracee.tid, NO_SYSCALL)
            tracee.resume(PTRACE_SYSCALL)
        if tracee.at_syscall_stop:
            # At the injected wait4's exit: no restart decision on its return, then where it was, the
            # kernel's restart already applied.
            arch.set_syscall_number(tracee.tid, NO_SYSCALL)
            tracee.set_regs(final)
        elif not arch.probes_restart:
            # At a signal stop (x86_64, where the kernel decides about the restart after this stop): its
            # own registers, so that the kernel decides about the signal and the interrupted call exactly as
            # it would have (handler or not, SA_RESTART or not).
            tracee.set_regs(saved)
        elif round_.restarts:
            redeliver_in_own_call(tracee, final)
        else:
            tracee.set_regs(final)  # no call to restart: the handler runs, then it goes on from there
    except (OSError, ReapRefused):
        pass  # it was killed meanwhile (SIGKILL cannot be held off)


def redeliver_in_own_call(tracee, final):
    """aarch64, a signal stop while the parent's own call is to restart: the kernel made its restart
    decision (EINTR or not, by handler and SA_RESTART) before this stop, about the injected call. So the
    signal is held, the parent put back into its own call, and the signal raised again there; at its next
    delivery stop its siginfo (sender included) is put back and it goes in as it would have."""
    signum, info = tracee.pass_on_signal, get_siginfo(tracee.tid)
    tracee.pass_on_signal = 0
    tracee.set_regs(final)
    if not tracee.resume(PTRACE_SYSCALL):
        tracee.pass_on_signal = tracee.pass_on_signal or signum
        return  # another stop came first: the signal goes in from there
    tracee.resume(PTRACE_SYSCALL, signum=signum)  # queued at the entry of its call, which then returns
    for _stop in range(3):  # on to the signal's delivery stop, after the call's exit stop
        if not tracee.resume(PTRACE_SYSCALL):
            break
    if tracee.pass_on_signal == signum:
        set_siginfo(tracee.tid, info)
