# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the tracee's memory tells: whether it sits in an rseq critical section."""

from .ptrace import read_memory, rseq_configuration


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
