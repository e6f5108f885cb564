"""Helpers shared by the scenarios' testinfra verifiers (imported by path: molecule/resources)."""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins" / "module_utils"))
from zombie_reaper.procfs import parse_stat, parse_status  # noqa: E402  pylint: disable=wrong-import-position


def wait_until(predicate, timeout=60.0, interval=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def processes(host):
    """[(pid, ppid, state, comm, args)] of the node, as its own /proc shows them."""
    rows = []
    for line in host.check_output("ps -eo pid=,ppid=,stat=,comm=,args= -ww").splitlines():
        words = line.split(None, 4)
        if len(words) >= 4:
            rows.append((int(words[0]), int(words[1]), words[2], words[3], words[4] if len(words) > 4 else ""))
    return rows


def tenant_pid(host, name):
    """The tenant's Python process (not the unshare that started it), or None."""
    found = [pid for pid, _ppid, state, comm, args in processes(host)
             if comm.startswith("python3") and args.endswith(" " + name) and not state.startswith("Z")]
    return found[0] if found else None


def shim_pid(host):
    found = [pid for pid, _ppid, state, comm, _args in processes(host)
             if comm == "containerd-shim" and not state.startswith("Z")]
    return found[0] if found else None


def sshd_zombies(host, parent):
    return sorted(pid for pid, ppid, state, comm, _args in processes(host)
                  if ppid == parent and state.startswith("Z") and comm == "sshd")


def starttime(host, pid):
    return parse_stat(host.file("/proc/%d/stat" % pid).content_string)["starttime"]


def tracer(host, pid):
    return parse_status(host.file("/proc/%d/status" % pid).content_string).get("TracerPid")


def reports(host, path="/var/log/zombie-reaper/reaper.log"):
    """The JSON reports the reaper appended to its log, oldest first."""
    if not host.file(path).exists:
        return []
    return [json.loads(line) for line in host.file(path).content_string.splitlines() if line.strip()]


def entry_for(report, pid):
    entries = [p for p in report.get("parents", []) if p["pid"] == pid]
    return entries[0] if entries else None


def daemons(host):
    """The node's own daemons (parent is PID 1 or none), as 'pid comm' lines."""
    return sorted("%d %s" % (pid, comm) for pid, ppid, state, comm, _args in processes(host)
                  if ppid <= 1 and not state.startswith("Z")
                  and comm in ("sshd", "cron", "systemd", "systemd-journal", "dbus-daemon"))


def daemons_before(host):
    return sorted(line for line in host.file("/root/daemons.before").content_string.splitlines() if line.strip())


def pods(host):
    """{pod name: {"pod_id", "container_id", "cgroup_parent"}} as the containerd scenarios' prepare made them."""
    return json.loads(host.file("/root/pods.json").content_string)


def cri(host):
    """The CRI client (cri.py) bound to this node: ``cri(host).status(container_id)`` and so on."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import cri as client  # noqa: E402  pylint: disable=import-outside-toplevel

    runtime = client.Runtime(host.backend.host)

    class Bound(object):
        status = staticmethod(lambda container_id: client.status(runtime, container_id))
        exec_sync = staticmethod(lambda container_id, timeout, argv: client.exec_sync(runtime, container_id,
                                                                                      timeout, argv))
    return Bound()


def zombies_of(host, parent):
    return [pid for pid, ppid, state, _comm, _args in processes(host) if ppid == parent and state.startswith("Z")]
