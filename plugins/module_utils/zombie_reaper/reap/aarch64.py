# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aarch64: registers (NT_PRSTATUS regset), the `svc #0` instruction and the system call number
(NT_ARM_SYSTEM_CALL).

Where the aarch64 restart is handled: the kernel moves pc back onto the `svc` and restores x0 *before*
the stop, and decides about restart_syscall only if pc is left there. So a parent stopped on an `svc`
is let into that call first (``reenters_own_call``; see syscall_stops.py)."""

import ctypes

from .ptrace import NT_ARM_SYSTEM_CALL, NT_PRSTATUS, PTRACE_GETREGSET, PTRACE_SETREGSET, IoVec, ptrace, signed
from .refusal import ReapRefused


class UserPtRegsAarch64(ctypes.Structure):
    """struct user_pt_regs of aarch64 (asm/ptrace.h): the NT_PRSTATUS regset."""

    _fields_ = [("regs", ctypes.c_ulonglong * 31), ("sp", ctypes.c_ulonglong), ("pc", ctypes.c_ulonglong),
                ("pstate", ctypes.c_ulonglong)]


class Aarch64(object):
    """Registers (NT_PRSTATUS regset) and the `svc #0` instruction of an aarch64 thread."""

    name = "aarch64"
    syscall_insn = b"\x01\x00\x00\xd4"  # svc #0, little-endian
    insn_alignment = 4
    nr_wait4 = 260
    single_step = False  # syscall stops only (see round.py)
    reenters_own_call = True  # a parent stopped on an `svc` is let into that call first
    clears_syscall_number_on_leave = True  # no restart decision on the injected wait4's return
    compat_mode_bit = 0x10  # PSR_MODE32_BIT: an AArch32 task

    @staticmethod
    def get_regs(tid):
        regs = UserPtRegsAarch64()
        vector = IoVec(ctypes.addressof(regs), ctypes.sizeof(regs))
        ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, ctypes.addressof(vector))
        if vector.length != ctypes.sizeof(regs) or regs.pstate & Aarch64.compat_mode_bit:
            raise ReapRefused("the parent is a 32-bit process (not supported)")
        return regs

    @staticmethod
    def set_regs(tid, regs):
        vector = IoVec(ctypes.addressof(regs), ctypes.sizeof(regs))
        ptrace(PTRACE_SETREGSET, tid, NT_PRSTATUS, ctypes.addressof(vector))

    @staticmethod
    def on_syscall_insn(code):
        """`svc #imm` with any immediate (the kernel ignores it; libcs use #0)."""
        return len(code) == 4 and int.from_bytes(code, "little") & 0xFFE0001F == 0xD4000001

    @staticmethod
    def set_syscall_number(tid, number):
        """The system call a thread at its entry stop will run (NO_SYSCALL: none, no restart)."""
        value = ctypes.c_int(number)
        vector = IoVec(ctypes.addressof(value), ctypes.sizeof(value))
        ptrace(PTRACE_SETREGSET, tid, NT_ARM_SYSTEM_CALL, ctypes.addressof(vector))

    @staticmethod
    def pc(regs):
        return regs.pc

    @staticmethod
    def after_syscall(regs):
        return False  # not visible in the registers; any `svc` before pc serves as well

    @staticmethod
    def set_call(regs, pc, number, args):
        regs.pc = pc
        regs.regs[8] = number
        for index, value in enumerate(args):
            regs.regs[index] = value

    @staticmethod
    def result(regs):
        return signed(regs.regs[0])

    @staticmethod
    def syscall_number(regs):
        return regs.regs[8]

    @staticmethod
    def set_saved_syscall_number(regs, number):
        regs.regs[8] = number
