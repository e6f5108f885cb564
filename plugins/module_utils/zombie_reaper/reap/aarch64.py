# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aarch64: registers (NT_PRSTATUS regset), the `svc #0` instruction, the system call number
(NT_ARM_SYSTEM_CALL), the resume code and where the restart is decided.

The kernel moves pc back onto the `svc` and restores x0 *before* the stop, and turns the call into
restart_syscall (after -ERESTART_RESTARTBLOCK) only if pc is left there. So a parent stopped on an `svc`
is first let into that call and stopped again (``probes_restart``; see round.py): then x8 shows the call
that really runs again.

"""

import ctypes
import struct

from .ptrace import (ERESTART_RESTARTBLOCK, NT_ARM_SYSTEM_CALL, NT_PRSTATUS, PTRACE_GETREGSET, PTRACE_SETREGSET,
                     RESTART_SAME_CALL, IoVec, ptrace)
from .refusal import ReapRefused


class UserPtRegsAarch64(ctypes.Structure):
    """struct user_pt_regs of aarch64 (asm/ptrace.h): the NT_PRSTATUS regset."""

    _fields_ = [("regs", ctypes.c_ulonglong * 31), ("sp", ctypes.c_ulonglong), ("pc", ctypes.c_ulonglong),
                ("pstate", ctypes.c_ulonglong)]


class Aarch64(object):
    """Registers (NT_PRSTATUS regset) and the `svc #0` instruction of an aarch64 thread."""

    name = "aarch64"
    syscall_insn = b"\x01\x00\x00\xd4"  # svc #0, little-endian
    nr_wait4 = 260
    nr_restart_syscall = 128
    compat_mode_bit = 0x10  # PSR_MODE32_BIT: an AArch32 task
    cave_size = 96 + 32 * 8  # resume code (21 instructions, padded), x0-x30 and sp saved
    cave_reach = 1 << 27  # the jump back is a `b` (+-128 MiB): the cave must lie near the parent's pc
    probes_restart = True

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
    def in_system_call(regs, code_at_pc):
        """On an `svc`: the kernel put it back there to restart the call (or it is about to make one)."""
        return Aarch64.on_syscall_insn(code_at_pc)

    @staticmethod
    def resume_point(regs):
        """The registers to resume with, stopped outside a system call: as they are."""
        return UserPtRegsAarch64.from_buffer_copy(regs)

    @staticmethod
    def restart_point(interrupted, returned, result):
        """The registers to resume with after the probe (round.py): ``interrupted`` at the interrupt stop (pc
        and x0 already put back by the kernel; x7 true, unlike at syscall stops, where it reports the stop's
        direction), ``returned`` at the exit stop of the call let in, ``result`` its return value. The
        kernel's rule without a handler: the call again (restart_syscall after -ERESTART_RESTARTBLOCK);
        a call that finished goes on from its return. Returns (registers, whether a call restarts)."""
        if -result in RESTART_SAME_CALL + (ERESTART_RESTARTBLOCK,):
            final = UserPtRegsAarch64.from_buffer_copy(interrupted)
            if -result == ERESTART_RESTARTBLOCK:
                final.regs[8] = Aarch64.nr_restart_syscall
            return final, True
        final = UserPtRegsAarch64.from_buffer_copy(returned)
        final.regs[7] = interrupted.regs[7]
        return final, False

    @staticmethod
    def resume_code(address, final):
        """The cave's bytes at ``address``: `svc #0`, then back to ``final`` without the tracer (x16 as the
        base of the saved words; sp through x17; x16 and x17 last; then a `b` to the saved pc)."""
        data = address + 96
        words = [0xD4000001]  # svc #0
        offset = data - (address + 4)
        words.append(0x10000000 | (offset & 3) << 29 | ((offset >> 2) & 0x7FFFF) << 5 | 16)  # adr x16, data
        words.append(_ldr(17, 16, 31 * 8))  # ldr x17, [x16, #sp]
        words.append(0x9100023F)  # mov sp, x17
        for first in list(range(0, 16, 2)) + list(range(18, 30, 2)):
            words.append(_ldp(first, first + 1, 16, first * 8))
        words.append(_ldr(30, 16, 30 * 8))
        words.append(_ldp(16, 17, 16, 16 * 8))
        here = address + 4 * len(words)
        words.append(0x14000000 | ((final.pc - here) >> 2) & 0x3FFFFFF)  # b <pc>
        code = b"".join(struct.pack("<I", word) for word in words)
        code += b"\0" * (96 - len(code))
        return code + b"".join(struct.pack("<Q", value) for value in list(final.regs) + [final.sp])

    @staticmethod
    def enter_cave(regs, address, number, args):
        """``regs`` (the saved ones) made to run one call at the cave's `svc`, pstate unchanged."""
        regs.pc = address
        regs.regs[8] = number
        for index, value in enumerate(args):
            regs.regs[index] = value


def _ldr(target, base, offset):
    return 0xF9400000 | (offset // 8) << 10 | base << 5 | target


def _ldp(first, second, base, offset):
    return 0xA9400000 | ((offset // 8) & 0x7F) << 15 | second << 10 | base << 5 | first
