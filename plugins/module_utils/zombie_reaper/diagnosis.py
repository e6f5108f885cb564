# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a parent's zombies say about it, with the evidence, and what to tell the tenant."""

from .classify import CLASS_CONTAINER_INIT, CLASS_CONTAINER_PROCESS, CLASS_HOST_PROCESS

# Helpers that exec probes and `kubectl exec` run, whose orphans a healthy PID 1 adopts.
PROBE_HELPERS = frozenset((
    "timeout", "sh", "bash", "dash", "ash", "busybox", "curl", "wget", "grpc_health_pro", "grpc_health_probe",
    "pg_isready", "nc", "ncat", "redis-cli", "mysqladmin", "mongosh", "mongo", "cat", "sleep", "test", "[",
    "ps", "pgrep", "nslookup", "dig", "openssl", "etcdctl", "kubectl", "true", "env", "grep", "awk",
))
# Share of a parent's zombies that must be probe helpers for that diagnosis.
PROBE_SHARE = 0.8

PROBE_ORPHANS = "probe_orphans"
INIT_NEVER_WAITS = "init_never_waits"
CONTAINER_PROCESS_LEAKS = "container_process_leaks"
HOST_PROCESS_LEAKS = "host_process_leaks"


def diagnose(parent, rate_per_hour):
    """A dict: kind, text (what to tell the tenant) and evidence; None for parents that are not acted on."""
    names = {}
    for zombie in parent.zombies:
        names[zombie.comm] = names.get(zombie.comm, 0) + 1
    if not names:
        return None
    helpers = sum(count for name, count in names.items() if name in PROBE_HELPERS)
    share = helpers / float(len(parent.zombies))
    top = sorted(names.items(), key=lambda item: (-item[1], item[0]))[:5]
    evidence = {"zombie_names": dict(top), "probe_helper_share": round(share, 2), "leak_rate_per_hour": rate_per_hour}
    if parent.klass in (CLASS_CONTAINER_INIT, CLASS_CONTAINER_PROCESS) and share >= PROBE_SHARE:
        kind = PROBE_ORPHANS
        text = ("orphans of exec probes or `kubectl exec` (%s), adopted by %s, which does not reap them: the "
                "application is fine; start the probe's command with `exec`, or run the container with an init "
                "(tini, --init); never a reason to restart it" % (", ".join(n for n, _c in top), parent.comm))
    elif parent.klass == CLASS_CONTAINER_INIT:
        kind = INIT_NEVER_WAITS
        text = ("PID 1 of the container (%s) never waits for the children it starts (%s): its entrypoint starts "
                "services it does not reap; run it under an init (tini, --init) or exec the service"
                % (parent.comm, ", ".join(n for n, _c in top)))
    elif parent.klass == CLASS_CONTAINER_PROCESS:
        kind = CONTAINER_PROCESS_LEAKS
        text = "a process in the container (%s) does not wait for its children (%s)" % (
            parent.comm, ", ".join(n for n, _c in top))
    elif parent.klass == CLASS_HOST_PROCESS:
        kind = HOST_PROCESS_LEAKS
        text = "a host process (%s) does not wait for its children (%s)" % (parent.comm, ", ".join(n for n, _c in top))
    else:
        return None
    return {"kind": kind, "text": text, "evidence": evidence}
