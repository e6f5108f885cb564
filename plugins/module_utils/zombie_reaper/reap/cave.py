# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The code cave: room for REAP's resume code in the parent's own executable memory.

The last page of an executable ELF segment is mapped whole, but the segment ends before the page does:
the bytes after its end are never executed or read through that mapping. The resume code (see
injection.py) is written there with PTRACE_POKEDATA (copy-on-write: the file and other processes are
untouched), and the bytes that were there are put back before the parent is detached.

No mmap is injected for it: an injected mmap would itself leave the parent with foreign registers if the
reaper died around it, the very thing the cave exists to prevent."""

import os
import struct

from ..procfs import read_file
from .ptrace import read_memory, write_memory

PT_LOAD = 1
PF_X = 1
ELF_MAGIC = b"\x7fELF"
CAVE_ALIGNMENT = 16


class Mapping(object):
    def __init__(self, line):
        fields = line.split(None, 5)
        start, end = fields[0].split("-", 1)
        self.start, self.end = int(start, 16), int(end, 16)
        self.perms = fields[1]
        self.offset = int(fields[2], 16)
        self.file = (fields[3], fields[4], fields[5].strip() if len(fields) > 5 else "")

    @property
    def named(self):
        return self.file[1] != "0" or self.file[2] == "[vdso]"


def mappings(proc_root, pid, tid):
    """The memory map, read through the thread (a leader that exited has none of its own)."""
    maps = read_file("%s/%d/task/%d/maps" % (proc_root, pid, tid), 1 << 22) or b""
    return [Mapping(line) for line in maps.decode("utf-8", "replace").splitlines() if line.count(" ") >= 4]


class Cave(object):
    """``size`` bytes at ``address`` in the tracee's private executable memory, and what they held."""

    def __init__(self, tid, address):
        self.tid = tid
        self.address = address
        self.original = None

    def install(self, code):
        original = read_memory(self.tid, self.address, len(code))
        if len(original) != len(code):
            raise OSError("cannot read the cave at 0x%x" % self.address)
        write_memory(self.tid, self.address, code)
        self.original = original

    def remove(self):
        """Put the bytes back (the tracee must be stopped, and never return into the cave)."""
        if self.original is not None:
            try:
                write_memory(self.tid, self.address, self.original)
            except OSError:
                pass  # it was killed meanwhile
            self.original = None


def find_cave(proc_root, pid, tid, size, near, reach):
    """A Cave of ``size`` bytes within ``reach`` bytes of ``near`` (the place it jumps back to), or None.
    The mapping holding ``near`` is tried first, then the others by distance."""
    page = os.sysconf("SC_PAGE_SIZE")
    maps = mappings(proc_root, pid, tid)
    executable = [m for m in maps if m.perms == "r-xp" and m.named]
    executable.sort(key=lambda m: 0 if m.start <= near < m.end else min(abs(near - m.start), abs(near - m.end)))
    for mapping in executable:
        for segment_end in _executable_segment_ends(tid, maps, mapping, page):
            start = (segment_end + CAVE_ALIGNMENT - 1) & ~(CAVE_ALIGNMENT - 1)
            end = (segment_end + page - 1) & ~(page - 1)
            if (mapping.start <= start and end <= mapping.end and end - start >= size
                    and abs(start - near) < reach and abs(start + size - near) < reach):
                return Cave(tid, start)
    return None


def _executable_segment_ends(tid, maps, mapping, page):
    """Where the executable PT_LOAD segments of ``mapping``'s ELF file end, in the tracee's addresses."""
    first = [m for m in maps if m.file == mapping.file and m.offset == 0 and m.start <= mapping.start]
    if not first:
        return []
    base = max(first, key=lambda m: m.start).start  # the mapping of the ELF header (offset 0)
    header = read_memory(tid, base, 64)
    if len(header) < 64 or header[:4] != ELF_MAGIC or header[4] != 2 or header[5] != 1:
        return []  # not a little-endian 64-bit ELF image
    phoff, = struct.unpack_from("<Q", header, 32)
    phentsize, phnum = struct.unpack_from("<HH", header, 54)
    if phentsize < 56 or not 0 < phnum <= 64:
        return []
    table = read_memory(tid, base + phoff, phentsize * phnum)
    if len(table) < phentsize * phnum:
        return []
    loads = []
    for index in range(phnum):
        kind, flags, offset, vaddr, _paddr, _filesz, memsz = struct.unpack_from("<IIQQQQQ", table, index * phentsize)
        if kind == PT_LOAD:
            loads.append((offset, vaddr, memsz, flags))
    at_zero = [vaddr for offset, vaddr, _memsz, _flags in loads if offset == 0]
    if not at_zero:
        return []
    bias = base - (at_zero[0] & ~(page - 1))
    return [bias + vaddr + memsz for _offset, vaddr, memsz, flags in loads if flags & PF_X]
