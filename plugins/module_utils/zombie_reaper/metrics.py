# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus text exposition of a run, written atomically for node_exporter's textfile collector.

Series are keyed by what stays put: the container (runtime id, with its pod namespace, pod and Kubernetes
container name where kubelet names them), never by pid or outcome, which change every run, and never by a
tenant-chosen name alone. What node_exporter's processes collector already exports is not repeated (pid_max,
threads-max, threads in use: node_processes_max_processes, node_processes_max_threads, node_processes_threads);
the zombie count and the PID usage ratio are kept because they are what this run decided on, and that
collector is off by default."""

import os
import time
from collections import Counter

from .errors import ReaperError
from .files import read_small_file, write_atomically
from .state import TOTALS

METRICS_TOP_CONTAINERS = 10
PUBLISH_MAX_BYTES = 1 << 20  # a run's exposition is a few KiB
CONTAINER_LABELS = ("runtime", "container_id", "pod_namespace", "pod", "container")
_OTHER = ("other", "other", "", "", "")  # the containers past the top ones, as one series
_HOST = ("", "", "", "", "")  # parents that are not in a container
_TOTAL_HELP = {
    "runs": "Runs that acted (not dry or info runs) and completed.",
    "runs_failed": "Runs of the node command that stopped with an error (exit code 2 or 4).",
    "zombies_reaped_in_place": "Zombies the REAP rung made their parent reap (no signal).",
    "zombies_cleared": "Zombies gone after the reaper acted on their parent.",
    "container_restarts": "Container inits restarted (SIGTERM or SIGKILL let through by the restart gate).",
}


def _label(value):
    return str(value if value is not None else "").replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Exposition(object):
    def __init__(self):
        self.lines = []

    def metric(self, name, kind, help_text, samples):
        self.lines.append("# HELP zombie_reaper_%s %s" % (name, help_text))
        self.lines.append("# TYPE zombie_reaper_%s %s" % (name, kind))
        for labels, value in samples:
            text = ",".join('%s="%s"' % (k, _label(v)) for k, v in labels)
            self.lines.append("zombie_reaper_%s%s %s" % (name, "{%s}" % text if text else "", value))

    def gauge(self, name, help_text, value):
        self.metric(name, "gauge", help_text, [((), value)])

    def text(self):
        return "\n".join(self.lines) + "\n"


def format_metrics(report, ok=True, totals=None):
    """The exposition of one run (``report`` None for a run that failed before it had one). ``totals`` are the
    state file's (the report's own when it has them): the _total counters, absent without a state file."""
    now = round(time.time(), 3)
    out = _Exposition()
    totals = report.get("totals") if report is not None else totals
    out.gauge("last_run_timestamp_seconds", "Unix time of the last run.", now)
    out.gauge("last_run_success", "1 if the last run completed without error.", 1 if ok else 0)
    # An acting run's success is the one its state file keeps; any other run that completes is its own.
    counted = ok and report is not None and report["mode"] == "reap" and totals is not None
    last_success = now if ok and not counted else (totals or {}).get("last_success")
    if last_success is not None:
        out.gauge("last_success_timestamp_seconds", "Unix time of the last run that completed without error.",
                  last_success)
    if totals is not None:
        _totals(out, totals)
    if report is not None:
        _run(out, report)
    return out.text()


def _totals(out, totals):
    for name in TOTALS:
        out.metric(name + "_total", "counter", _TOTAL_HELP[name] + " Since the state file was created.",
                   [((), totals[name])])
    out.metric("signals_sent_total", "counter", "Signals sent to zombie parents, by signal. Since the state file "
               "was created.", sorted(((("signal", k),), v) for k, v in totals["signals_sent"].items()))


def _run(out, report):
    out.gauge("zombies", "Zombie processes seen by the last run.", report["zombies"])
    by_class = Counter()
    for parent in report["parents"]:
        by_class[parent["class"]] += parent["zombies"]
    out.metric("zombies_by_class", "gauge", "Zombies by the class of their parent.", sorted(
        ((("class", k),), v) for k, v in by_class.items()))
    out.metric("parents_by_outcome", "gauge", "Parents by outcome in the last run.",
               sorted(((("outcome", k),), v) for k, v in report["outcomes"].items()))
    zombies, seconds_left = _by_container(report["parents"])
    out.metric("container_zombies", "gauge", "Zombies in each of the %d containers with most (the rest as "
               "container_id=\"other\", host processes as container_id=\"\")." % METRICS_TOP_CONTAINERS, zombies)
    out.metric("container_seconds_left", "gauge", "Seconds until the tightest PID limit over the container's "
               "zombie parents is reached at their leak rate (only where known).", seconds_left)
    out.gauge("legacy_script_present", "1 if the provider guide's legacy kill script is installed on the node.",
              1 if report["legacy_files"] else 0)
    if report["pids"].get("used_percent") is not None:
        out.gauge("pids_used_ratio", "PIDs in use over the lower of pid_max and threads-max (the restart gate's "
                  "input).", round(report["pids"]["used_percent"] / 100.0, 6))
    out.gauge("scan_duration_seconds", "Duration of the process-table scan.", report["scan_seconds"])
    out.gauge("run_duration_seconds", "Duration of the whole run.", report["run_seconds"])


def container_key(container):
    """The label values of a parent's container (all empty for a host process)."""
    if not container:
        return _HOST
    pidns = container.get("pid_namespace")
    ident = (container.get("id") or "")[:12] or ("pidns:%s" % pidns if pidns else "")
    return (container.get("runtime") or "", ident, container.get("pod_namespace") or "",
            container.get("pod_name") or "", container.get("name") or "")


def _by_container(parents):
    zombies = Counter()
    left = {}
    for parent in parents:
        key = container_key(parent["container"])
        zombies[key] += parent["zombies"]
        if parent["seconds_left"] is not None:
            left[key] = min(left.get(key, parent["seconds_left"]), parent["seconds_left"])
    ranked = sorted(zombies.items(), key=lambda item: (-item[1], item[0]))
    top = ranked[:METRICS_TOP_CONTAINERS]
    rest = sum(count for _key, count in ranked[METRICS_TOP_CONTAINERS:])
    samples = [(tuple(zip(CONTAINER_LABELS, key)), count) for key, count in top]
    if rest:
        samples.append((tuple(zip(CONTAINER_LABELS, _OTHER)), rest))
    seconds = [(tuple(zip(CONTAINER_LABELS, key)), left[key]) for key, _count in top if key in left]
    return samples, seconds


def write_textfile(path, text):
    """Atomically (node_exporter never reads half a file), never through a planted link."""
    write_atomically(path, text.encode("utf-8"), 0o644, "metrics file")


def publish_textfile(source, target):
    """Copy the metrics file ``source`` to ``target`` atomically and remove it; False when there is none. Run
    as root for a service that cannot write the textfile directory, so it copies only a metrics file of ours:
    a regular file, not a link, every line one of our series or their HELP and TYPE."""
    data = read_small_file(source, PUBLISH_MAX_BYTES, "metrics file to publish")
    if data is None:
        return False
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        lines = [repr(data[:80])]  # not text: not ours
    stray = [line for line in lines if not (line.startswith("zombie_reaper_") or line.startswith(
        "# HELP zombie_reaper_") or line.startswith("# TYPE zombie_reaper_"))]
    if not lines or stray:
        raise ReaperError("%s is not a zombie-reaper metrics file (%r); not published" % (
            source, (stray or [""])[0][:80]))
    write_atomically(target, data, 0o644, "metrics file")
    try:
        os.unlink(source)
    except OSError:
        pass  # published; the next run replaces it
    return True
