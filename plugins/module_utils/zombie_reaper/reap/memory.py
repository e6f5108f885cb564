# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the tracee's memory tells: a system call instruction to borrow, and whether it sits in an rseq
critical section."""

from ..procfs import read_file
from .ptrace import read_memory, rseq_configuration


def find_syscall_insn(proc_root, tid, arch, regs):
    """Address of a system call instruction in the tracee's own executable memory, or None."""
    insn = arch.syscall_insn
    before = arch.pc(regs) - len(insn)
    # The instruction just before pc, when it lies in pc's (executable) page and surely is one: with
    # fixed-length instructions (aarch64) any aligned match is; on x86_64 only right after a syscall.
    if (before >> 12 == arch.pc(regs) >> 12 and (arch.after_syscall(regs) or arch.insn_alignment > 1)
            and read_memory(tid, before, len(insn)) == insn):
        return before
    maps = read_file("%s/%d/maps" % (proc_root, tid), 1 << 22) or b""
    regions = []
    for line in maps.decode("utf-8", "replace").splitlines():
        fields = line.split()
        if len(fields) < 2 or "x" not in fields[1] or "r" not in fields[1]:
            continue
        start, end = fields[0].split("-", 1)
        # The vdso first: small, always mapped, and holds the syscall fall-backs.
        regions.append((0 if line.endswith("[vdso]") else 1, int(start, 16), int(end, 16)))
    for _rank, start, end in sorted(regions):
        address = start
        while address < end and address - start < (16 << 20):
            chunk = read_memory(tid, address, min(1 << 16, end - address))
            if not chunk:
                break
            offset = chunk.find(insn)
            while offset >= 0 and (address + offset) % arch.insn_alignment:
                offset = chunk.find(insn, offset + 1)
            if offset >= 0:
                return address + offset
            address += len(chunk) - (len(insn) - 1)  # overlap: an instruction may straddle chunks
    return None


def in_rseq_critical_section(tid, pc):
    """True/False, or None when the kernel cannot tell (before Linux 5.13)."""
    abi_pointer = rseq_configuration(tid)
    if abi_pointer is None:
        return None
    if not abi_pointer:
        return False
    rseq_cs = int.from_bytes(read_memory(tid, abi_pointer + 8, 8) or b"\0" * 8, "little")
    if not rseq_cs:
        return False
    descriptor = read_memory(tid, rseq_cs, 32)
    if len(descriptor) < 32:
        return True  # cannot read it: assume the worst
    start_ip = int.from_bytes(descriptor[8:16], "little")
    post_commit_offset = int.from_bytes(descriptor[16:24], "little")
    return start_ip <= pc < start_ip + post_commit_offset
