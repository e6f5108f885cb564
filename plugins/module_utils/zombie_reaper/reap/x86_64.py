# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""x86_64: registers (PTRACE_GETREGS) and the `syscall` instruction."""

import ctypes

from .ptrace import PTRACE_GETREGS, PTRACE_SETREGS, ptrace, signed
from .refusal import ReapRefused


class UserRegsX8664(ctypes.Structure):
    """struct user_regs_struct of x86_64 (asm/user.h)."""

    _fields_ = [(_field, ctypes.c_ulonglong) for _field in (
        "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss "
        "fs_base gs_base ds es fs gs").split()]


class X8664(object):
    """Registers and the `syscall` instruction of an x86_64 thread."""

    name = "x86_64"
    syscall_insn = b"\x0f\x05"
    insn_alignment = 1
    nr_wait4 = 61
    single_step = True  # the fast path (see round.py)
    reenters_own_call = False
    clears_syscall_number_on_leave = False  # orig_rax restored with the registers
    user_cs = 0x33  # a 64-bit process; `syscall` is undefined in 32-bit code

    @staticmethod
    def get_regs(tid):
        regs = UserRegsX8664()
        ptrace(PTRACE_GETREGS, tid, 0, ctypes.addressof(regs))
        if regs.cs != X8664.user_cs:
            raise ReapRefused("the parent is a 32-bit process (not supported)")
        return regs

    @staticmethod
    def set_regs(tid, regs):
        ptrace(PTRACE_SETREGS, tid, 0, ctypes.addressof(regs))

    @staticmethod
    def set_syscall_number(tid, number):
        """The system call a thread at its entry stop will run (NO_SYSCALL: none, no restart)."""
        regs = X8664.get_regs(tid)
        regs.orig_rax = number % 2 ** 64
        X8664.set_regs(tid, regs)

    @staticmethod
    def on_syscall_insn(code):
        return False  # x86_64 stops after the `syscall`, never on it

    @staticmethod
    def pc(regs):
        return regs.rip

    @staticmethod
    def after_syscall(regs):
        """True when the thread stopped on its way out of a system call."""
        return regs.orig_rax != 2 ** 64 - 1

    @staticmethod
    def set_call(regs, pc, number, args):
        regs.rip = pc
        regs.orig_rax = 2 ** 64 - 1  # not in a syscall: no restart fix-up for the injected call
        regs.rax = number
        regs.rdi, regs.rsi, regs.rdx, regs.r10 = args

    @staticmethod
    def result(regs):
        return signed(regs.rax)

    @staticmethod
    def syscall_number(regs):
        return regs.orig_rax

    @staticmethod
    def set_saved_syscall_number(regs, number):
        regs.orig_rax = number
