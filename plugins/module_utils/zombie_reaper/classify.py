# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a zombie's parent is classified: host init, kernel thread, runtime, protected, container, host."""

import fnmatch
import os

from .errors import ReaperError
from .procfs import read_stat

CLASS_HOST_INIT = "host_init"
CLASS_KERNEL_THREAD = "kernel_thread"
CLASS_REAPER = "reaper"  # the reaper itself or one of its ancestors
CLASS_RUNTIME = "container_runtime"
CLASS_PROTECTED = "protected_daemon"
CLASS_CONTAINER_INIT = "container_init"
CLASS_CONTAINER_PROCESS = "container_process"
CLASS_HOST_PROCESS = "host_process"

NEVER_SIGNALLED = (CLASS_HOST_INIT, CLASS_KERNEL_THREAD, CLASS_REAPER, CLASS_RUNTIME, CLASS_PROTECTED)

PF_KTHREAD = 0x00200000

RUNTIME_PATTERNS = (
    "containerd", "containerd-shim*", "docker-containerd*", "dockerd", "docker-proxy", "docker",
    "conmon", "crio", "cri-o", "runc", "crun", "youki", "kubelet", "podman", "buildkitd",
    "k3s", "k3s-server", "k3s-agent", "rke2", "cri-dockerd", "lxc-start", "lxd",
)
PROTECTED_PATTERNS = (
    "systemd", "systemd-*", "(sd-pam)", "init", "sshd", "sshd-session", "cron", "crond", "anacron",
    "atd", "dbus-daemon", "dbus-broker*", "rsyslogd", "syslog-ng", "agetty", "login", "polkitd",
    "udevd", "chronyd", "ntpd", "auditd", "snapd", "multipathd", "NetworkManager", "wpa_supplicant",
    "irqbalance", "lvmetad", "iscsid", "kube-proxy", "sudo", "su", "tmux*", "screen", "SCREEN",
    "zombie-reaper",
)


def matches_any(names, patterns):
    for pattern in patterns:
        for name in names:
            if fnmatch.fnmatchcase(name, pattern):
                return pattern
    return None


def attribution_protected(parent, patterns):
    """Protect patterns that name a container, pod or cgroup apply in any namespace."""
    container = parent.container_dict() or {}
    for pattern in patterns:
        kind, sep, value = pattern.partition(":")
        if not sep:
            continue
        if kind == "container" and container.get("id") and container["id"].startswith(value):
            return pattern
        if kind == "pod" and container.get("pod_name"):
            if fnmatch.fnmatchcase("%s/%s" % (container["pod_namespace"], container["pod_name"]), value):
                return pattern
        if kind == "cgroup" and parent.cgroup.get("path") and fnmatch.fnmatchcase(parent.cgroup["path"], value):
            return pattern
    return None


def classify(parent, reaper_pids, user_patterns):
    """Set ``parent.klass`` and ``parent.reason``; the first rule that applies wins."""
    if parent.pid == 1:
        return _set_class(parent, CLASS_HOST_INIT, "PID 1 of this PID namespace")
    if parent.flags & PF_KTHREAD:  # not "pid 2": inside a PID namespace pid 2 is an ordinary process
        return _set_class(parent, CLASS_KERNEL_THREAD, "kernel thread")
    if parent.pid in reaper_pids:
        return _set_class(parent, CLASS_REAPER, "the reaper itself or one of its ancestors")
    attribution = attribution_protected(parent, user_patterns)
    if attribution:
        return _set_class(parent, CLASS_PROTECTED, "protect pattern %r" % attribution)
    if parent.sandbox:
        return _set_class(parent, CLASS_RUNTIME, "the pod's sandbox (pause), by the runtime's record")
    if not parent.nested and not parent.in_recorded_container:
        # Names are trusted only in the host PID namespace, outside any container the runtime records (a
        # hostPID pod): tenants choose their own names.
        runtime = matches_any(parent.names, RUNTIME_PATTERNS)
        if runtime or parent.cgroup.get("runtime_side"):
            return _set_class(parent, CLASS_RUNTIME, "container runtime (%s)" % (runtime or "runtime cgroup"))
        name_patterns = [p[len("name:"):] if p.startswith("name:") else p for p in user_patterns
                         if ":" not in p or p.startswith("name:")]
        pattern = matches_any(parent.names, name_patterns)
        if pattern:
            return _set_class(parent, CLASS_PROTECTED, "protect pattern %r" % pattern)
        pattern = matches_any(parent.names, PROTECTED_PATTERNS)
        if pattern:
            return _set_class(parent, CLASS_PROTECTED, "protected host daemon (%s)" % pattern)
    if parent.namespace_init:
        return _set_class(parent, CLASS_CONTAINER_INIT, "PID 1 of a nested PID namespace")
    if parent.in_container:
        return _set_class(parent, CLASS_CONTAINER_PROCESS,
                          "in a nested PID namespace" if parent.nested else "in a container cgroup")
    return _set_class(parent, CLASS_HOST_PROCESS, "host process")


def _set_class(parent, klass, reason):
    parent.klass = klass
    parent.reason = reason
    return klass


def reaper_lineage(proc_root):
    """PIDs of this process and all its ancestors, as seen through proc_root.

    Its own pid comes from proc_root's ``self`` link, not getpid(): a reaper in a container with the host's
    /proc has another pid there, and getpid() would name a stranger's ancestors."""
    try:
        pid = int(os.readlink(proc_root + "/self"))
    except (OSError, ValueError):
        raise ReaperError("cannot find this process in %s (no %s/self): that /proc is of a PID namespace this "
                          "process is not in, and its own ancestors could not be told apart; nothing was signalled"
                          % (proc_root, proc_root)) from None
    lineage = set()
    while pid > 0 and pid not in lineage:
        lineage.add(pid)
        stat = read_stat(proc_root, pid)
        if stat is None:
            break
        pid = stat["ppid"]
    return lineage
