# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ptrace binding (ctypes over libc): requests, options, structures, tracee memory reads.

The only module of the engine that loads ctypes; it is imported only when REAP runs."""

import ctypes
import os
import signal

PTRACE_PEEKDATA = 2
PTRACE_POKEDATA = 5
PTRACE_GETREGS = 12
PTRACE_SETREGS = 13
PTRACE_DETACH = 17
PTRACE_SYSCALL = 24
PTRACE_GETSIGINFO = 0x4202
PTRACE_SETSIGINFO = 0x4203
PTRACE_GETREGSET = 0x4204
PTRACE_SETREGSET = 0x4205
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_GET_SYSCALL_INFO = 0x420E
PTRACE_GET_RSEQ_CONFIGURATION = 0x420F
PTRACE_O_TRACESYSGOOD = 1
PTRACE_O_SUSPEND_SECCOMP = 1 << 21
PTRACE_EVENT_STOP = 128
PTRACE_SYSCALL_INFO_ENTRY = 1
PTRACE_SYSCALL_INFO_EXIT = 2
SYSCALL_STOP = signal.SIGTRAP | 0x80  # WSTOPSIG of a syscall stop with PTRACE_O_TRACESYSGOOD
NT_PRSTATUS = 1
NT_ARM_SYSTEM_CALL = 0x404
WAIT_ALL_THREADS = 0x40000000  # __WALL
NO_SYSCALL = -1
# The kernel-internal restart codes an interrupted system call returns (include/linux/errno.h).
ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK = 512, 513, 514, 516
RESTART_SAME_CALL = (ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND)  # without a handler: the same call again
JOB_CONTROL_STOPS = (signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)


def signed(value):
    return value - 2 ** 64 if value >= 2 ** 63 else value


def copy(structure):
    return type(structure).from_buffer_copy(structure)


def overwrite(target, source):
    """Copy ``source`` into ``target`` in place (same structure type)."""
    ctypes.pointer(target)[0] = source


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]


class PtraceSyscallInfo(ctypes.Structure):
    """struct ptrace_syscall_info (linux/ptrace.h), the parts read here."""

    _fields_ = [("op", ctypes.c_uint8), ("pad", ctypes.c_uint8 * 3), ("arch", ctypes.c_uint32),
                ("instruction_pointer", ctypes.c_uint64), ("stack_pointer", ctypes.c_uint64),
                ("nr_or_rval", ctypes.c_uint64), ("args_or_is_error", ctypes.c_uint64 * 6),
                ("ret_data", ctypes.c_uint32), ("reserved", ctypes.c_uint32)]


_LIBC = []


def _libc():
    if not _LIBC:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        libc.ptrace.restype = ctypes.c_long
        libc.process_vm_readv.argtypes = [ctypes.c_int, ctypes.POINTER(IoVec), ctypes.c_ulong,
                                          ctypes.POINTER(IoVec), ctypes.c_ulong, ctypes.c_ulong]
        libc.process_vm_readv.restype = ctypes.c_ssize_t
        _LIBC.append(libc)
    return _LIBC[0]


def ptrace(request, tid, addr=0, data=0):
    result = _libc().ptrace(request, tid, addr, data)
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def read_memory(tid, address, size):
    """Bytes of the tracee's memory (process_vm_readv: a ptrace-access check, no DAC on /proc/PID/mem)."""
    buffer = ctypes.create_string_buffer(size)
    local = IoVec(ctypes.addressof(buffer), size)
    remote = IoVec(address, size)
    got = _libc().process_vm_readv(tid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    return buffer.raw[:got] if got > 0 else b""


def write_memory(tid, address, data):
    """Write ``data`` into the stopped tracee's memory, read-only (private) mappings included: PTRACE_POKEDATA
    goes through the kernel's forced access, copy-on-write, as a debugger's breakpoint does (no DAC on
    /proc/PID/mem needed). Whole words: the bytes around ``data`` are read first and written back as they were."""
    if not data:
        return
    start = address & ~7
    end = (address + len(data) + 7) & ~7
    words = bytearray(end - start)
    words[:8] = _peek(tid, start)  # the edge words are only partly overwritten: keep their other bytes
    words[-8:] = _peek(tid, end - 8)
    words[address - start:address - start + len(data)] = data
    for offset in range(0, len(words), 8):
        word = int.from_bytes(bytes(words[offset:offset + 8]), "little")
        _poke(tid, start + offset, word)


def _peek(tid, address):
    ctypes.set_errno(0)
    value = _libc().ptrace(PTRACE_PEEKDATA, tid, address, 0)
    err = ctypes.get_errno()
    if value == -1 and err:
        raise OSError(err, os.strerror(err))
    return (value % 2 ** 64).to_bytes(8, "little")


def _poke(tid, address, word):
    ptrace(PTRACE_POKEDATA, tid, address, word)


def get_siginfo(tid):
    """The siginfo of the signal a thread at a signal-delivery stop is about to get (sender included)."""
    info = (ctypes.c_ubyte * 128)()
    ptrace(PTRACE_GETSIGINFO, tid, 0, ctypes.addressof(info))
    return info


def set_siginfo(tid, info):
    ptrace(PTRACE_SETSIGINFO, tid, 0, ctypes.addressof(info))


def syscall_info(tid):
    info = PtraceSyscallInfo()
    ptrace(PTRACE_GET_SYSCALL_INFO, tid, ctypes.sizeof(info), ctypes.addressof(info))
    return info


def rseq_configuration(tid):
    """The rseq area's address (0 when none), or None when the kernel cannot tell (before Linux 5.13)."""
    config = (ctypes.c_ubyte * 24)()
    try:
        ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, 24, ctypes.addressof(config))
    except OSError:
        return None
    return int.from_bytes(bytes(config)[0:8], "little")
