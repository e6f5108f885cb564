# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A process with zombie children: what classification and the rungs need to know of it."""

import os

from .attribution import empty_cgroup, parse_cgroup
from .procfs import read_file, read_stat, read_status


class Parent(object):
    """A process with zombie children, as inspected for classification."""

    def __init__(self, pid):
        self.pid = pid
        self.starttime = None
        self.ppid = None
        self.comm = ""
        self.cmdline = ""
        self.exe = None
        self.uid = None
        self.flags = 0
        self.nspid = []
        self.sig_caught = 0
        self.sig_ignored = 0
        self.tracer = 0
        self.pidns = None
        self.cgroup = empty_cgroup()
        self.pod = None
        self.container_name = None  # the Kubernetes container name, from the runtime's record or kubelet's logs
        self.image = None
        self.record = None  # the runtime's own record of the container (records.py), when one names it
        self.klass = None
        self.reason = None
        self.zombies = []

    @property
    def nested(self):
        """In a PID namespace below the one whose /proc we read."""
        return len(self.nspid) > 1

    @property
    def namespace_init(self):
        return self.nested and self.nspid[-1] == 1

    @property
    def names(self):
        names = {self.comm}
        argv0 = self.cmdline.split(" ", 1)[0] if self.cmdline else ""
        if argv0:
            names.add(os.path.basename(argv0))
        if self.exe:
            names.add(os.path.basename(self.exe))
        names.discard("")
        return names

    @property
    def sandbox(self):
        """The pod's sandbox (pause) process, by the runtime's record."""
        return bool(self.record) and self.record.get("type") in ("sandbox", "podsandbox")

    @property
    def in_recorded_container(self):
        """In a container the runtime's CRI record names (a random 64-hex id: no host cgroup can match it by
        chance, as a hand-named `ctr run` id such as ``sshd.service`` could)."""
        return bool(self.record) and bool(self.record.get("type"))

    def apply_record(self, record):
        """Attribute from the runtime's own record: it outranks what the cgroup path and logs suggest."""
        self.record = record
        self.cgroup = dict(self.cgroup, runtime=record["runtime"], id=record["id"],
                           pod_uid=record["pod_uid"] or self.cgroup.get("pod_uid"))
        if record["pod_namespace"] and record["pod_name"]:
            self.pod = (record["pod_namespace"], record["pod_name"])
        self.container_name = record["name"]
        self.image = record["image"]

    @property
    def in_container(self):
        return self.nested or bool(self.cgroup.get("id")) or bool(self.cgroup.get("pod_uid"))

    def restart_key(self, proc_root):
        """What names the parent's container across its restarts, first that applies: the pod (kubelet gives a
        restarted container a new id, the pod keeps its UID), the container id (docker, podman and containerd
        keep it across a restart), the cgroup the init runs in, the process that started it (a shim or
        supervisor), the PID namespace, the process itself. Keys the container-init cooldown."""
        cgroup = self.cgroup
        if cgroup.get("pod_uid"):
            return "pod:" + cgroup["pod_uid"]
        if cgroup.get("id"):
            return "container:" + cgroup["id"]
        if cgroup.get("stable_path"):
            return "cgroup:" + cgroup["stable_path"]
        starter = read_stat(proc_root, self.ppid) if self.ppid and self.ppid > 1 else None
        if starter:
            return "parent:%d:%d" % (self.ppid, starter["starttime"])
        if self.pidns:
            return "pidns:" + self.pidns
        return "pid:%d:%s" % (self.pid, self.starttime)

    def container_dict(self):
        if not self.in_container:
            return None
        data = {"runtime": self.cgroup.get("runtime"), "id": self.cgroup.get("id"),
                "pod_uid": self.cgroup.get("pod_uid"), "pod_namespace": None, "pod_name": None,
                "pid_namespace": self.pidns, "pid_in_container": self.nspid[-1] if self.nested else None,
                "name": None, "image": self.image, "source": "runtime record" if self.record else "cgroup"}
        if self.pod:
            data["pod_namespace"], data["pod_name"] = self.pod
            data["name"] = self.container_name
        return data


def inspect_parent(proc_root, pid):
    """Read what classification needs; None when the parent is gone."""
    stat = read_stat(proc_root, pid)
    if stat is None:
        return None
    parent = Parent(pid)
    parent.starttime = stat["starttime"]
    parent.ppid = stat["ppid"]
    parent.comm = stat["comm"]
    parent.flags = stat["flags"]
    base = "%s/%d" % (proc_root, pid)
    info = read_status(proc_root, pid)
    if info:
        parent.uid = (info.get("Uid") or [None])[0]
        parent.nspid = info.get("NSpid") or [pid]
        parent.sig_caught = info.get("SigCgt", 0)
        parent.sig_ignored = info.get("SigIgn", 0)
        parent.tracer = info.get("TracerPid", 0)
    else:
        parent.nspid = [pid]
    cmdline = read_file(base + "/cmdline")
    if cmdline:
        parent.cmdline = cmdline.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")
    try:
        parent.exe = os.readlink(base + "/exe")
    except OSError:
        parent.exe = None
    try:
        link = os.readlink(base + "/ns/pid")
        parent.pidns = link[link.find("[") + 1:link.rfind("]")] or None
    except OSError:
        parent.pidns = None
    cgroup = read_file(base + "/cgroup")
    if cgroup:
        parent.cgroup = parse_cgroup(cgroup.decode("utf-8", "replace"))
    return parent
