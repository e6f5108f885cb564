# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The container runtime's own record of a container: its OCI bundle's config.json, whose annotations name the
pod, the container and the image (containerd's CRI plugin: io.kubernetes.cri.*; CRI-O: io.kubernetes.pod.*).

A process is matched to a bundle by its cgroup path: the innermost path component that is (or, in the systemd
driver's ``<prefix>-<id>.scope`` form, holds) the id of a bundle wins, so a container in a container (kind, k3d,
a node under podman) is named by the runtime nearest to it. The files are the runtime's, never the tenant's:
only regular files owned by root and writable by no one else, under directories of the same kind, are read."""

import json
import os
import stat


# (state directory under the root, runtime name, layout): <dir>/<namespace>/<id>/config.json for containerd's
# v2 shims, <dir>/<id>/userdata/config.json for CRI-O.
BUNDLE_DIRS = (
    ("run/containerd/io.containerd.runtime.v2.task", "containerd", "namespaced"),
    ("run/k3s/containerd/io.containerd.runtime.v2.task", "containerd", "namespaced"),  # k3s, rke2 agent
    ("run/containers/storage/overlay-containers", "cri-o", "userdata"),
)
MAX_CONFIG_BYTES = 4 << 20
EXPORT_VERSION = 1
MAX_VALUE_CHARS = 253  # a Kubernetes name's limit: longer values are not a runtime's

RECORD_KEYS = ("runtime", "id", "namespace", "pod_namespace", "pod_name", "pod_uid", "name", "image", "type")
# annotation -> record key, per runtime
_CONTAINERD_KEYS = {
    "io.kubernetes.cri.sandbox-namespace": "pod_namespace", "io.kubernetes.cri.sandbox-name": "pod_name",
    "io.kubernetes.cri.sandbox-uid": "pod_uid", "io.kubernetes.cri.container-name": "name",
    "io.kubernetes.cri.image-name": "image", "io.kubernetes.cri.container-type": "type",
}
_CRIO_KEYS = {
    "io.kubernetes.pod.namespace": "pod_namespace", "io.kubernetes.pod.name": "pod_name",
    "io.kubernetes.pod.uid": "pod_uid", "io.kubernetes.container.name": "name",
    "io.kubernetes.cri-o.ImageName": "image", "io.kubernetes.cri-o.ContainerType": "type",
}


def _candidate_ids(component):
    """The ids a cgroup path component may name: itself, and for ``<prefix>-<id>.scope`` each tail after a dash,
    longest first (ids may hold dashes)."""
    yield component
    if component.endswith(".scope"):
        stem = component[:-len(".scope")]
        for position, char in enumerate(stem):
            if char == "-":
                yield stem[position + 1:]


def _owned_by_root(path):
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and not info.st_mode & 0o022


def _listdir(path):
    if not _owned_by_root(path):
        return []
    try:
        return os.listdir(path)
    except OSError:
        return []


class RuntimeRecords(object):
    """Bundles found under ``root`` (the node's /), indexed by container id; config files read on first use.
    With ``exported`` (a file --export-runtime-records wrote as root), its records instead: the hardened service
    may not enter the runtimes' 0700 bundle directories."""

    def __init__(self, root="/", exported=None):
        self._bundles = {}  # id -> (runtime, config.json path, containerd namespace or None)
        self._records = {}
        if exported is not None:
            self._records = _load_export(exported)
            self._bundles = dict((ident, None) for ident in self._records)
            return
        for relative, runtime, layout in BUNDLE_DIRS:
            base = os.path.join(root, relative)
            if layout == "namespaced":
                for namespace in _listdir(base):
                    for ident in _listdir(os.path.join(base, namespace)):
                        bundle = os.path.join(base, namespace, ident)
                        self._bundles.setdefault(ident, (runtime, bundle, namespace))
            else:
                for ident in _listdir(base):
                    self._bundles.setdefault(ident, (runtime, os.path.join(base, ident, "userdata"), None))

    def __len__(self):
        return len(self._bundles)

    def export(self):
        """Every record, read now: the JSON the unprivileged run loads (``exported``)."""
        records = dict((ident, self._record(ident)) for ident in sorted(self._bundles))
        return json.dumps({"version": EXPORT_VERSION, "records": dict((k, v) for k, v in records.items() if v)},
                          sort_keys=True).encode("utf-8")

    def find_in(self, cgroup_paths):
        """(depth, record) of the deepest match over every hierarchy's path; (0, None) when none matches."""
        return max((self.find(path) or (0, None) for path in cgroup_paths), key=lambda found: found[0],
                   default=(0, None))

    def find(self, cgroup_path):
        """(depth, record) of the innermost bundle the path names, or None. ``depth`` is the number of path
        components up to and including the one that matched (to compare with a cgroup pattern's match)."""
        if not self._bundles or not cgroup_path:
            return None
        parts = cgroup_path.strip("/").split("/")
        for index in range(len(parts) - 1, -1, -1):
            for ident in _candidate_ids(parts[index]):
                record = self._record(ident)
                if record:
                    return index + 1, record
        return None

    def _record(self, ident):
        if ident not in self._bundles:
            return None
        if ident not in self._records:
            self._records[ident] = _read_record(ident, *self._bundles[ident])
        return self._records[ident]


def _read_runtime_file(path, owner=0):
    """The bytes of a regular file owned by ``owner`` (root; None: anyone) that no one else may write, never
    through a link; else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or (owner is not None and info.st_uid != owner) or info.st_mode & 0o022 or info.st_size > MAX_CONFIG_BYTES:
            return None
        chunks, size = [], 0
        while size <= MAX_CONFIG_BYTES:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
        return None
    except OSError:
        return None
    finally:
        os.close(fd)


def _load_export(path):
    """The records of an export; none (attribution falls back to cgroups) when it is missing or not ours."""
    data = _read_runtime_file(path, owner=None)
    try:
        loaded = json.loads(data.decode("utf-8")) if data else None
    except ValueError:
        return {}
    if not isinstance(loaded, dict) or loaded.get("version") != EXPORT_VERSION or not isinstance(loaded.get("records"), dict):
        return {}
    records = {}
    for ident, record in loaded["records"].items():
        if isinstance(record, dict) and record.get("runtime") in ("containerd", "cri-o") and record.get("id") == ident:
            records[ident] = dict((key, _clean(record.get(key))) for key in RECORD_KEYS)
    return records


def _clean(value):
    return value if isinstance(value, str) and 0 < len(value) <= MAX_VALUE_CHARS and value.isprintable() else None


def _read_record(ident, runtime, bundle, namespace):
    """The record of one bundle, or None when its files are not the runtime's or say nothing usable."""
    if not _owned_by_root(bundle):
        return None
    data = _read_runtime_file(os.path.join(bundle, "config.json"))
    if data is None:
        return None
    try:
        config = json.loads(data.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError too
        return None
    annotations = (config.get("annotations") if isinstance(config, dict) else None) or {}
    if not isinstance(annotations, dict):
        return None
    keys = _CRIO_KEYS if runtime == "cri-o" else _CONTAINERD_KEYS
    record = dict((key, None) for key in RECORD_KEYS)
    record.update(runtime=runtime, id=ident, namespace=namespace)
    for annotation, key in keys.items():
        record[key] = _clean(annotations.get(annotation))
    if runtime == "cri-o" and not record["type"]:
        return None  # podman keeps its containers in the same layout; its cgroup names it already
    return record
