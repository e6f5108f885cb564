# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Injection by single steps (x86_64, the fast path): each wait4 in one step at the borrowed `syscall`.

A signal that arrives meanwhile ends the round and is delivered on detach with its original siginfo."""

import os
import signal

from .ptrace import PTRACE_SINGLESTEP, copy


def by_single_step(round_, saved, gadget, targets):
    """One stop per zombie; the step ends in a SIGTRAP stop."""
    tracee = round_.tracee
    arch = tracee.arch
    work = copy(saved)
    try:
        while not round_.over(targets):
            target = round_.load_next_call(targets, work, saved, gadget)
            if target is None:
                break
            zombie, nspid = target
            status = tracee.step(PTRACE_SINGLESTEP)
            if os.WSTOPSIG(status) != signal.SIGTRAP or status >> 16:
                tracee.pass_on_signal = os.WSTOPSIG(status)
                break
            round_.record(zombie, nspid, arch.result(tracee.get_regs()))
    finally:
        tracee.restore(saved)
