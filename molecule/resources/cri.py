"""A minimal CRI client: what kubelet asks of containerd to run a pod, an exec probe and a status, over the
node's real CRI socket (runtime.v1, containerd 1.6). It stands in for kubelet, which this machine cannot run.

  cri.py NODE pod NAME NAMESPACE UID IMAGE [--pids-max N] [--seccomp] [--mount NODE_PATH:PATH]
                  [--cgroup-driver cgroupfs|systemd] -- ARGV...
      RunPodSandbox (host network, a PID namespace per container, kubelet's cgroup parent and log layout),
      CreateContainer + StartContainer; prints {"pod_id", "container_id", "cgroup_parent"} as JSON
  cri.py NODE exec CONTAINER_ID TIMEOUT -- ARGV...     ExecSync, as kubelet runs an exec probe
  cri.py NODE status CONTAINER_ID                     ContainerStatus: {"state", "pid", "started_at"}

NODE is a podman container; its socket is reached through /proc/<its pid>/root, so nothing listens on a network.
Messages are encoded by hand from the CRI API's field numbers (k8s.io/cri-api, pkg/apis/runtime/v1/api.proto):
grpcio carries the bytes, no generated code and no protobuf package are needed.
"""

import json
import os
import subprocess
import sys

import grpc

SERVICE = "/runtime.v1.RuntimeService/"
NAMESPACE_CONTAINER, NAMESPACE_NODE = 1, 2  # NamespaceMode
STATES = {0: "created", 1: "running", 2: "exited", 3: "unknown"}  # ContainerState


# --- protobuf wire format: varints and length-delimited fields are all these messages use ---
def _varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, value):
    """One field: int -> varint (0 omitted, as proto3 does), str/bytes -> length-delimited, list -> repeated."""
    if isinstance(value, list):
        return b"".join(field(number, item) for item in value)
    if isinstance(value, bool) or isinstance(value, int):
        return _varint(number << 3) + _varint(int(value)) if value else b""
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def message(*parts):
    """Fields given as (number, value), or as bytes already encoded (a map)."""
    return b"".join(part if isinstance(part, bytes) else field(*part) for part in parts
                    if isinstance(part, bytes) or part[1] is not None)


def string_map(number, mapping):
    return b"".join(field(number, message((1, key), (2, value))) for key, value in sorted(mapping.items()))


def decode(data):
    """{field number: [values]}: ints for varints, bytes for length-delimited fields."""
    fields, pos = {}, 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(data, pos)
        elif wire == 2:
            size, pos = _read_varint(data, pos)
            value, pos = data[pos:pos + size], pos + size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, pos = data[pos:pos + size], pos + size
        else:
            raise ValueError("unexpected wire type %d" % wire)
        fields.setdefault(number, []).append(value)
    return fields


def _read_varint(data, pos):
    shift = result = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def decoded_map(entries):
    pairs = (decode(entry) for entry in entries)
    return dict((p.get(1, [b""])[0].decode(), p.get(2, [b""])[0].decode()) for p in pairs)


# --- the calls ---
class Runtime(object):
    def __init__(self, node):
        pid = subprocess.run(["podman", "inspect", "--format", "{{.State.Pid}}", node], check=True,
                             capture_output=True, text=True).stdout.strip()
        self.node_root = "/proc/%s/root" % pid
        self.channel = grpc.insecure_channel("unix://%s/run/containerd/containerd.sock" % self.node_root)

    def call(self, method, request, timeout=60):
        stub = self.channel.unary_unary(SERVICE + method)
        return decode(stub(request, timeout=timeout))


def pod_sandbox_config(name, namespace, uid, cgroup_parent):
    metadata = message((1, name), (2, uid), (3, namespace))
    namespaces = message((1, NAMESPACE_NODE), (2, NAMESPACE_CONTAINER))  # host network (no CNI), own PID ns
    linux = message((1, cgroup_parent), (2, message((1, namespaces))))
    return message((1, metadata), (3, "/var/log/pods/%s_%s_%s" % (namespace, name, uid)),
                   string_map(6, {"io.kubernetes.pod.name": name, "io.kubernetes.pod.namespace": namespace,
                                  "io.kubernetes.pod.uid": uid}),
                   (8, linux))


def run_pod(runtime, name, namespace, uid, image, argv, pids_max=None, seccomp=False, driver="cgroupfs", mounts=()):
    if driver == "systemd":
        cgroup_parent = "kubepods-besteffort-pod%s.slice" % uid.replace("-", "_")
    else:
        cgroup_parent = "/kubepods/besteffort/pod%s" % uid
    # kubelet makes the pod's log directory; containerd writes the container's log in it.
    os.makedirs("%s/var/log/pods/%s_%s_%s/%s" % (runtime.node_root, namespace, name, uid, name), exist_ok=True)
    sandbox = pod_sandbox_config(name, namespace, uid, cgroup_parent)
    pod_id = runtime.call("RunPodSandbox", message((1, sandbox)))[1][0].decode()
    if pids_max:
        # kubelet's podPidsLimit: pids.max on the pod's cgroup (cgroupfs driver, cgroup v1 here)
        with open("%s/sys/fs/cgroup/pids%s/pids.max" % (runtime.node_root, cgroup_parent), "w") as handle:
            handle.write("%d\n" % pids_max)
    namespaces = message((1, NAMESPACE_NODE), (2, NAMESPACE_CONTAINER))
    security = message((3, namespaces), (10, "runtime/default" if seccomp else None))
    binds = [message((1, target), (2, source), (3, True)) for source, target in mounts]  # read-only
    container = message((1, message((1, name))), (2, message((1, image))), (3, list(argv)), (7, binds),
                        (11, "%s/0.log" % name), (15, message((2, security))))
    container_id = runtime.call("CreateContainer", message((1, pod_id), (2, container), (3, sandbox)))[1][0].decode()
    runtime.call("StartContainer", message((1, container_id)))
    return {"pod_id": pod_id, "container_id": container_id, "cgroup_parent": cgroup_parent}


def exec_sync(runtime, container_id, timeout, argv):
    reply = runtime.call("ExecSync", message((1, container_id), (2, list(argv)), (3, int(timeout))),
                         timeout=int(timeout) + 30)
    return {"stdout": reply.get(1, [b""])[0].decode("utf-8", "replace"), "stderr": reply.get(2, [b""])[0].decode("utf-8", "replace"),
            "exit_code": reply.get(3, [0])[0]}


def status(runtime, container_id):
    reply = runtime.call("ContainerStatus", message((1, container_id), (2, True)))
    state = decode(reply[1][0])
    info = decoded_map(reply.get(2, []))
    pid = json.loads(info["info"]).get("pid") if "info" in info else None
    return {"state": STATES.get(state.get(3, [0])[0], "unknown"), "pid": pid, "started_at": state.get(5, [0])[0]}


def main(argv):
    node, command, rest = argv[0], argv[1], argv[2:]
    runtime = Runtime(node)
    if command == "pod":
        split = rest.index("--")
        words, command_argv = rest[:split], rest[split + 1:]
        options = {"pids_max": None, "seccomp": False, "driver": "cgroupfs", "mounts": []}
        positional = []
        words = iter(words)
        for word in words:
            if word == "--pids-max":
                options["pids_max"] = int(next(words))
            elif word == "--seccomp":
                options["seccomp"] = True
            elif word == "--mount":
                options["mounts"].append(tuple(next(words).split(":", 1)))
            elif word == "--cgroup-driver":
                options["driver"] = next(words)
            else:
                positional.append(word)
        result = run_pod(runtime, *positional, argv=command_argv, **options)
    elif command == "exec":
        split = rest.index("--")
        result = exec_sync(runtime, rest[0], rest[1], rest[split + 1:])
    elif command == "status":
        result = status(runtime, rest[0])
    else:
        raise SystemExit("cri.py: unknown command %r (pod, exec, status)" % command)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
