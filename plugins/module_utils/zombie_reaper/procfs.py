# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading /proc: stat and status parsers, small-file reads, capabilities, PID headroom."""

import os
import re

CAP_KILL = 5
CAP_SYS_PTRACE = 19
CAP_SYS_ADMIN = 21


def read_file(path, limit=65536):
    """Read a small /proc file as bytes; None if the process is gone or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, limit)
    except OSError:
        return None
    finally:
        os.close(fd)


def read_whole_file(path):
    """Read a /proc file to its end as bytes (one read() of a seq_file such as mountinfo returns about a
    page, and a container node has far more mounts than that); None if it is unreadable."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


# mountinfo writes a space, tab, newline or backslash in a path as an octal escape (\040)
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


def mounts():
    """This process's mounts, in mountinfo's order: (mount point, filesystem type, superblock options list)."""
    for line in (read_whole_file("/proc/self/mountinfo") or b"").decode("utf-8", "replace").splitlines():
        left, _sep, right = line.partition(" - ")
        fields, tail = left.split(" "), right.split(" ")
        if len(fields) < 5 or len(tail) < 3:
            continue
        yield _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), fields[4]), tail[0], tail[2].split(",")


def parse_stat(data):
    """Parse /proc/PID/stat (bytes or str) into a dict.

    The name field may hold spaces, ')' or newlines, so split at the *last* ')'.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    left = data.find(b"(")
    right = data.rfind(b")")
    if left < 0 or right < left:
        raise ValueError("malformed stat line")
    fields = data[right + 2:].split()
    if len(fields) < 20:
        raise ValueError("malformed stat line: %d fields after the name" % len(fields))
    return {
        "pid": int(data[:left]),
        "comm": data[left + 1:right].decode("utf-8", "replace"),
        "state": fields[0].decode("ascii", "replace"),
        "ppid": int(fields[1]),
        "flags": int(fields[6]),
        "num_threads": int(fields[17]),
        "starttime": int(fields[19]),
    }


def parse_status(text):
    """Parse the /proc/PID/status fields the engine uses."""
    info = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        value = value.strip()
        if key in ("SigCgt", "SigIgn", "SigBlk", "SigPnd", "ShdPnd"):
            info[key] = int(value, 16)
        elif key in ("Uid", "NSpid", "NStgid"):
            info[key] = [int(v) for v in value.split()]
        elif key in ("TracerPid", "PPid", "Threads", "Seccomp"):
            info[key] = int(value)
        elif key == "Name":
            info[key] = value
        elif key == "State":
            info[key] = value[:1]
    return info


def read_stat(proc_root, pid):
    """Parsed stat of ``pid`` or None when gone."""
    data = read_file("%s/%d/stat" % (proc_root, pid), 1024)
    if not data:
        return None
    try:
        return parse_stat(data)
    except ValueError:
        return None


def read_status(proc_root, pid):
    """Parsed status of ``pid`` (the fields parse_status knows) or None when gone."""
    data = read_file("%s/%d/status" % (proc_root, pid))
    return parse_status(data.decode("utf-8", "replace")) if data else None


PF_EXITING = 0x00000004


def process_alive(stat):
    """A parsed stat of a live process: not defunct and not on its way out (PF_EXITING: killed, its children
    may already be re-parented), or a leader that exited while its other threads run (shown as Z)."""
    if stat is None:
        return False
    if stat["state"] == "Z":
        return stat["num_threads"] > 1
    return stat["state"] != "X" and not stat["flags"] & PF_EXITING


def signal_bit(mask, signum):
    """True when signal number ``signum`` is set in a /proc status signal mask."""
    return bool(mask >> (signum - 1) & 1)


def zombie_still_there(proc_root, zombie):
    """The same zombie (pid and start time) is still defunct; returns its current ppid or None."""
    stat = read_stat(proc_root, zombie.pid)
    if stat is None or stat["state"] != "Z" or stat["starttime"] != zombie.starttime:
        return None
    return stat["ppid"]


def has_capability(bit):
    """Effective capability ``bit`` of this process (root has them unless dropped)."""
    data = read_file("/proc/self/status")
    if data:
        for line in data.decode("ascii", "replace").splitlines():
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> bit & 1)
    return os.geteuid() == 0


def own_seccomp_mode():
    """This process's seccomp mode (0 none, 1 strict, 2 filter): the kernel lets only a tracer without a
    filter of its own suspend a tracee's (PTRACE_O_SUSPEND_SECCOMP)."""
    data = read_file("/proc/self/status")
    for line in (data or b"").decode("ascii", "replace").splitlines():
        if line.startswith("Seccomp:"):
            return int(line.split()[1])
    return 0


def clock_ticks():
    return os.sysconf("SC_CLK_TCK")


def pid_headroom(proc_root, processes):
    """Processes and threads in use against pid_max and threads-max."""
    result = {"processes": processes, "threads": None, "pid_max": None, "threads_max": None,
              "free": None, "used_percent": None}
    loadavg = read_file(proc_root + "/loadavg")
    if loadavg:
        try:
            result["threads"] = int(loadavg.split()[3].split(b"/")[1])
        except (IndexError, ValueError):
            pass
    for key, name in (("pid_max", "pid_max"), ("threads_max", "threads-max")):
        data = read_file("%s/sys/kernel/%s" % (proc_root, name))
        if data:
            try:
                result[key] = int(data)
            except ValueError:
                pass
    in_use = result["threads"] or processes
    limits = [v for v in (result["pid_max"], result["threads_max"]) if v]
    if limits:
        limit = min(limits)
        result["free"] = max(limit - in_use, 0)
        result["used_percent"] = round(100.0 * in_use / limit, 2)
    return result
