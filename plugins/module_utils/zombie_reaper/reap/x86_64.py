# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""x86_64: registers (PTRACE_GETREGS), the `syscall` instruction, the resume code and the restart rules."""

import ctypes
import struct

from .ptrace import ERESTART_RESTARTBLOCK, PTRACE_GETREGS, PTRACE_SETREGS, RESTART_SAME_CALL, ptrace, signed
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
    nr_wait4 = 61
    nr_restart_syscall = 219
    user_cs = 0x33  # a 64-bit process; `syscall` is undefined in 32-bit code
    cave_size = 128 + 17 * 8  # resume code (syscall, 16 loads, jmp: 120 bytes, padded), 17 saved words
    cave_reach = 2 ** 64  # the jump back is absolute
    probes_restart = False  # the registers show the interrupted call's restart code

    # The resume code loads every general register from its saved word, rip-relative, then rsp, then jumps
    # through the saved rip: no stack, no flags touched (rflags were set with the registers and survive the
    # `syscall`), no other register used.
    resume_order = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
                    "r15", "rsp", "rip")
    register_number = {"rax": 0, "rcx": 1, "rdx": 2, "rbx": 3, "rsp": 4, "rbp": 5, "rsi": 6, "rdi": 7}

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
    def pc(regs):
        return regs.rip

    @staticmethod
    def in_system_call(regs, _code_at_pc):
        return X8664.after_syscall(regs)

    @staticmethod
    def after_syscall(regs):
        """True when the thread stopped on its way out of a system call."""
        return regs.orig_rax != 2 ** 64 - 1

    @staticmethod
    def resume_point(regs):
        """The registers to resume with, the kernel's restart decision (for no handler) made here: the
        interrupted call runs again, restart_syscall for -ERESTART_RESTARTBLOCK (its restart block is
        left intact: nothing here returns through rt_sigreturn)."""
        final = type(regs).from_buffer_copy(regs)
        if X8664.after_syscall(regs):
            code = -signed(regs.rax)
            if code in RESTART_SAME_CALL:
                final.rax, final.rip = regs.orig_rax, regs.rip - 2
            elif code == ERESTART_RESTARTBLOCK:
                final.rax, final.rip = X8664.nr_restart_syscall, regs.rip - 2
            final.orig_rax = 2 ** 64 - 1
        return final

    @staticmethod
    def resume_code(address, final):
        """The cave's bytes at ``address``: `syscall`, then back to ``final`` without the tracer."""
        code = bytearray(X8664.syscall_insn)
        data = address + X8664.cave_size - 8 * len(X8664.resume_order)
        slots = {name: data + 8 * index for index, name in enumerate(X8664.resume_order)}
        for name in X8664.resume_order[:-1]:
            high = name.startswith("r") and name[1:].isdigit()
            number = int(name[1:]) - 8 if high else X8664.register_number[name]
            code += bytes((0x4C if high else 0x48, 0x8B, 0x05 | number << 3))
            code += struct.pack("<i", slots[name] - (address + len(code) + 4))
        code += b"\xff\x25" + struct.pack("<i", slots["rip"] - (address + len(code) + 6))
        code += b"\x90" * (data - address - len(code))
        code += b"".join(struct.pack("<Q", getattr(final, name)) for name in X8664.resume_order)
        return bytes(code)

    @staticmethod
    def enter_cave(regs, address, number, args):
        """``regs`` (the saved ones) made to run one call at the cave's `syscall`, rflags unchanged."""
        regs.rip = address
        regs.orig_rax = 2 ** 64 - 1  # not in a syscall: no restart fix-up for the injected call
        regs.rax = number
        regs.rdi, regs.rsi, regs.rdx, regs.r10 = args
