# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PID pressure: how close a container is to running out of PIDs (the tightest pids.max on its cgroup path,
and the node's pid_max and threads-max), and how fast its parent leaks zombies. A container init is restarted
only under pressure (see act.py)."""

import os

from .procfs import mounts, read_file

# Not enough history for a rate before this: say "unknown", never guess.
RATE_MIN_WINDOW_SECONDS = 60.0
_MOUNTS = {}


def _cgroup_mounts():
    """Mount points of the v1 pids hierarchy and of cgroup v2 (the reaper's own view), from mountinfo."""
    if not _MOUNTS:
        _MOUNTS.update(v1=None, v2=None)
        for mount_point, fstype, options in mounts():
            if fstype == "cgroup2" and _MOUNTS["v2"] is None:
                _MOUNTS["v2"] = mount_point
            elif fstype == "cgroup" and "pids" in options and _MOUNTS["v1"] is None:
                _MOUNTS["v1"] = mount_point
    return _MOUNTS


def _read_number(path):
    data = read_file(path, 64)
    if data is None:
        return None
    text = data.strip()
    if text == b"max":
        return float("inf")
    try:
        return int(text)
    except ValueError:
        return None


def container_limit(cgroup):
    """The tightest pids.max on the cgroup path (the container's own and every ancestor): a dict of limit, used,
    free and where, or None when no limit applies or none can be read."""
    mount = _cgroup_mounts()["v2" if cgroup.get("pids_v2") else "v1"]
    path = cgroup.get("pids_path")
    if not mount or not path:
        return None
    tightest = None
    level = path.rstrip("/")
    while True:
        directory = mount + level
        limit, used = _read_number(directory + "/pids.max"), _read_number(directory + "/pids.current")
        if limit not in (None, float("inf")) and used is not None:
            free = max(limit - used, 0)
            if tightest is None or free < tightest["free"]:
                tightest = {"limit": limit, "used": used, "free": free, "where": "cgroup:" + (level or "/")}
        if not level:
            return tightest
        level = os.path.dirname(level) if "/" in level else ""
        if level == "/":
            level = ""


def node_limit(pids):
    """The node's own: the lower of pid_max and threads-max against the threads in use (report["pids"])."""
    limits = [v for v in (pids.get("pid_max"), pids.get("threads_max")) if v]
    if not limits:
        return None
    used = pids.get("threads") or pids.get("processes") or 0
    return {"limit": min(limits), "used": used, "free": max(min(limits) - used, 0), "where": "node"}


def headroom(cgroup, pids):
    """The tightest of the container's and the node's limits, with its used percentage."""
    candidates = [c for c in (container_limit(cgroup), node_limit(pids)) if c]
    if not candidates:
        return None
    tightest = min(candidates, key=lambda c: (c["free"], c["where"] != "node"))
    tightest["used_percent"] = round(100.0 * tightest["used"] / tightest["limit"], 2) if tightest["limit"] else 100.0
    return tightest


def leak_rate_per_hour(first_seen_times, now):
    """Zombies born per hour under this parent, from when each was first seen: the ones first seen after the
    oldest, over the time since it. None (unknown) without RATE_MIN_WINDOW_SECONDS of history."""
    if not first_seen_times:
        return None
    oldest = min(first_seen_times)
    window = now - oldest
    if window < RATE_MIN_WINDOW_SECONDS:
        return None
    newer = len([t for t in first_seen_times if t > oldest])
    return round(newer * 3600.0 / window, 3)


def seconds_left(room, rate_per_hour):
    """Seconds until the tightest limit is reached at this rate; None when unknown or not leaking."""
    if room is None or not rate_per_hour:
        return None
    return round(room["free"] * 3600.0 / rate_per_hour, 1)
