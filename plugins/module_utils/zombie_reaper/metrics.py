# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus text exposition of a run, written atomically for node_exporter's textfile collector."""

import time
from collections import Counter

from .files import write_atomically

METRICS_TOP_PARENTS = 10


def _label(value):
    return str(value if value is not None else "").replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_metrics(report, ok=True):
    """Prometheus text exposition of one run; per-parent series capped at METRICS_TOP_PARENTS."""
    out = []

    def metric(name, kind, help_text, samples):
        out.append("# HELP zombie_reaper_%s %s" % (name, help_text))
        out.append("# TYPE zombie_reaper_%s %s" % (name, kind))
        for labels, value in samples:
            text = ",".join('%s="%s"' % (k, _label(v)) for k, v in labels)
            out.append("zombie_reaper_%s%s %s" % (name, "{%s}" % text if text else "", value))

    metric("last_run_timestamp_seconds", "gauge", "Unix time of the last run.", [((), round(time.time(), 3))])
    metric("last_run_success", "gauge", "1 if the last run completed without error.", [((), 1 if ok else 0)])
    if report is None:
        return "\n".join(out) + "\n"
    metric("zombies", "gauge", "Zombie processes seen by the last run.", [((), report["zombies"])])
    by_class = Counter()
    for parent in report["parents"]:
        by_class[parent["class"]] += parent["zombies"]
    metric("zombies_by_class", "gauge", "Zombies by the class of their parent.", sorted(
        ((("class", k),), v) for k, v in by_class.items()))
    metric("parent_zombies", "gauge", "Zombies under each of the %d worst parents (the rest as pid=other)."
           % METRICS_TOP_PARENTS, _top_parents(report["parents"]))
    metric("parent_seconds_left", "gauge", "Seconds until the tightest PID limit over each of the %d worst parents "
           "is reached at its leak rate (only where known)." % METRICS_TOP_PARENTS, _top_parents(
               report["parents"], "seconds_left", with_other=False))
    metric("parents_by_outcome", "gauge", "Parents by outcome in the last run.",
           sorted(((("outcome", k),), v) for k, v in report["outcomes"].items()))
    metric("signals_sent", "gauge", "Signals sent by the last run.", [((), report["signals_sent"])])
    metric("zombies_cleared", "gauge", "Zombies cleared by the last run.", [((), report["zombies_cleared"])])
    metric("zombies_reaped_in_place", "gauge", "Zombies the REAP rung made their parent reap (no signal).",
           [((), report["zombies_reaped_in_place"])])
    metric("legacy_script_present", "gauge", "1 if the provider guide's legacy kill script is installed on the node.",
           [((), 1 if report["legacy_files"] else 0)])
    metric("container_restarts", "gauge", "Container inits the last run restarted (SIGTERM/SIGKILL past the gate).",
           [((), report["container_restarts"])])
    pids = report["pids"]
    metric("pids_in_use", "gauge", "Threads (each holds a PID) in use.", [((), pids["threads"] or pids["processes"])])
    if pids.get("pid_max"):
        metric("pid_max", "gauge", "kernel.pid_max.", [((), pids["pid_max"])])
    if pids.get("threads_max"):
        metric("threads_max", "gauge", "kernel.threads-max.", [((), pids["threads_max"])])
    if pids.get("used_percent") is not None:
        metric("pids_used_ratio", "gauge", "PIDs in use over the lower of pid_max and threads-max.",
               [((), round(pids["used_percent"] / 100.0, 6))])
    metric("scan_duration_seconds", "gauge", "Duration of the process-table scan.", [((), report["scan_seconds"])])
    metric("run_duration_seconds", "gauge", "Duration of the whole run.", [((), report["run_seconds"])])
    return "\n".join(out) + "\n"


def _top_parents(parents, value="zombies", with_other=True):
    top = []
    other = 0
    for index, parent in enumerate(parents):
        if index >= METRICS_TOP_PARENTS:
            other += parent["zombies"]
            continue
        if parent[value] is None:
            continue
        container = parent["container"] or {}
        top.append(((("pid", parent["pid"]), ("comm", parent["comm"]), ("class", parent["class"]),
                     ("container", (container.get("id") or "")[:12]),
                     ("pod_namespace", container.get("pod_namespace") or ""),
                     ("pod", container.get("pod_name") or ""), ("outcome", parent["outcome"])), parent[value]))
    if other and with_other:
        top.append(((("pid", "other"), ("comm", ""), ("class", "other"), ("container", ""), ("pod_namespace", ""),
                     ("pod", ""), ("outcome", "")), other))
    return top


def write_textfile(path, text):
    """Atomically (node_exporter never reads half a file), never through a planted link."""
    write_atomically(path, text.encode("utf-8"), 0o644, "metrics file")
