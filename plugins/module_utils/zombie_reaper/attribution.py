# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which container and pod a process belongs to: /proc/PID/cgroup (v1 and v2), /var/log/pods and
/var/log/containers (kubelet's log layout names every pod and container)."""

import os
import re

_HEX64 = r"[0-9a-f]{64}"
_CGROUP_CONTAINER_RES = (
    # systemd cgroup driver: <prefix>-<id>.scope
    (re.compile(r"(?:^|/)docker-(%s)\.scope" % _HEX64), "docker"),
    (re.compile(r"(?:^|/)cri-containerd-(%s)\.scope" % _HEX64), "containerd"),
    (re.compile(r"(?:^|/)crio-(%s)\.scope" % _HEX64), "cri-o"),
    (re.compile(r"(?:^|/)libpod-(%s)\.scope" % _HEX64), "podman"),
    (re.compile(r"(?:^|/)nerdctl-(%s)\.scope" % _HEX64), "containerd"),
    # cgroupfs driver
    (re.compile(r"(?:^|/)docker/(%s)(?:/|$)" % _HEX64), "docker"),
    (re.compile(r"(?:^|/)crio-(%s)(?:/|$)" % _HEX64), "cri-o"),
    (re.compile(r"(?:^|/)libpod-(%s)(?:/|$)" % _HEX64), "podman"),
    (re.compile(r"(?:^|/)kubepods[^/]*(?:/[^/]+)*/pod[0-9a-f_-]+/(%s)(?:/|$)" % _HEX64), "cri"),
    (re.compile(r"^/default/(%s)(?:/|$)" % _HEX64), "containerd"),
)
_CGROUP_RUNTIME_SIDE_RE = re.compile(r"(?:^|/)(?:libpod-conmon-|crio-conmon-)[0-9a-f]{64}")
_POD_UID_RE = re.compile(r"kubepods.*?[/-]pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})"
                         r"(?:\.slice)?(?:/|$)")


def empty_cgroup():
    return {"path": None, "runtime": None, "id": None, "pod_uid": None, "runtime_side": False, "stable_path": None,
            "pids_path": None, "pids_v2": False, "paths": [], "depth": 0}


# Where a process's place outlives it: the unified hierarchy, then systemd's, then pids (where limits are).
_STABLE_ORDER = ("", "name=systemd", "pids")


def parse_cgroup(text):
    """Attribute a process from /proc/PID/cgroup (v1 and v2).

    Returns a dict: ``path`` (the v2 path, else the first v1 path naming a container),
    ``runtime``, ``id``, ``pod_uid`` (each None when unknown), ``runtime_side``
    (True for runtime helper cgroups such as podman's conmon scope), ``paths`` (every hierarchy's) and ``depth``
    (path components up to the container id). The innermost container named wins: a pod in a node that is itself
    a container is the pod's.
    """
    paths = []
    ranked = []
    pids = None
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            paths.append((parts[0] == "0" and parts[1] == "", parts[2]))
            if "pids" in parts[1].split(",") or (parts[0] == "0" and parts[1] == "" and pids is None):
                pids = (parts[2], parts[0] == "0")  # where its PID limits are: the v1 pids hierarchy, else v2
            rank = _STABLE_ORDER.index(parts[1]) if parts[1] in _STABLE_ORDER else len(_STABLE_ORDER)
            if parts[2] not in ("", "/"):
                ranked.append((rank, len(ranked), parts[2]))
    # cgroup v2 first, then v1 hierarchies in file order
    paths.sort(key=lambda item: not item[0])
    result = empty_cgroup()
    result["path"] = paths[0][1] if paths else None
    result["stable_path"] = min(ranked)[2] if ranked else None
    if pids:
        result["pids_path"], result["pids_v2"] = pids
    result["paths"] = [path for _unified, path in paths]
    best = None  # the innermost container a pattern names: (depth, order, runtime, id, path)
    for order, (_unified, path) in enumerate(paths):
        if _CGROUP_RUNTIME_SIDE_RE.search(path):
            result["runtime_side"] = True
        pod = _POD_UID_RE.search(path)
        if pod and not result["pod_uid"]:
            result["pod_uid"] = pod.group(1).replace("_", "-")
            result["path"] = path
        for regex, runtime in _CGROUP_CONTAINER_RES:
            for match in regex.finditer(path):
                found = (path[:match.end(1)].strip("/").count("/") + 1, -order, runtime, match.group(1), path)
                if best is None or found[:2] > best[:2]:
                    best = found
    if best:
        result.update(depth=best[0], runtime=best[2], id=best[3], path=best[4])
    return result


def pod_names(pods_log_dir):
    """Map pod UID -> (namespace, name) from /var/log/pods/<namespace>_<name>_<uid>."""
    pods = {}
    try:
        entries = os.listdir(pods_log_dir)
    except OSError:
        return pods
    for entry in entries:
        parts = entry.split("_")
        if len(parts) >= 3:
            pods[parts[-1]] = ("_".join(parts[:-2]) if len(parts) > 3 else parts[0], parts[-2])
    return pods


# kubelet's /var/log/containers/<pod>_<namespace>_<container>-<id>.log (none of the names may hold "_").
_CONTAINER_LOG_RE = re.compile(r"^[^_]+_[^_]+_([^_]+)-(%s)\.log$" % _HEX64)


def container_names(pods_log_dir):
    """Map container id -> Kubernetes container name, from the /var/log/containers beside ``pods_log_dir``."""
    names = {}
    try:
        entries = os.listdir(os.path.join(os.path.dirname(os.path.abspath(pods_log_dir)), "containers"))
    except OSError:
        return names
    for entry in entries:
        match = _CONTAINER_LOG_RE.match(entry)
        if match:
            names[match.group(2)] = match.group(1)
    return names
