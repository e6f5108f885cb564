# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one report of a run (the modules' return value, the log line), its exit code and its summary."""

import os
import time
from collections import Counter

from .errors import EXIT_OK, EXIT_ZOMBIES_REMAIN
from .outcomes import FAILED_OUTCOMES
from .pidfd import HAVE_PIDFD
from .version import VERSION

ZOMBIE_PIDS_LISTED = 20


def printable(text):
    """Tenant-chosen text (a comm, a pod name) made safe for a line of text output: control characters and
    line separators are escaped, so a name cannot forge a line of the summary or the journal."""
    text = str(text)
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def report_mode(mode, dry_run):
    """The report's ``mode``: ``info``, ``dry_run``, or ``reap`` for a run that acted."""
    return "info" if mode == "info" else ("dry_run" if dry_run else "reap")


def build_report(cases, scan, policy, mode, dry_run, warnings, outside, scan_seconds, started, pids, legacy_files):
    parents = []
    outcomes = Counter()
    signals_sent = 0
    cleared = 0
    reaped_in_place = 0
    restarts = 0
    for case in cases:
        restarts += case.restarted
        outcomes[case.outcome] += 1
        signals_sent += len([s for s in case.signals if s["result"] == "sent"])
        reaped_in_place += case.reaped_in_place
        if case.outcome in ("reaped", "parent_exited"):
            cleared += len(case.confirmed) - len(case.remaining)
        parents.append(_parent_entry(case))
    return {
        "version": VERSION,
        "host": os.uname().nodename,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "mode": report_mode(mode, dry_run),
        "zombies": sum(len(c.parent.zombies) for c in cases),
        "zombies_outside_limit": outside,
        "zombie_leaders_with_threads": scan.zombie_leaders_with_threads,
        "zombies_cleared": cleared,
        "parents_with_zombies": len(cases),
        "parents": parents,
        "outcomes": dict(outcomes),
        "signals_sent": signals_sent,
        "zombies_reaped_in_place": reaped_in_place,
        "container_restarts": restarts,
        "pids": pids,
        "scan_seconds": round(scan_seconds, 6),
        "run_seconds": round(time.monotonic() - started, 6),
        "pidfd": HAVE_PIDFD,
        "warnings": warnings,
        "legacy_files": legacy_files,
        "policy": policy.describe(),
    }


def _parent_entry(case):
    parent = case.parent
    return {
        "pid": parent.pid,
        "starttime": parent.starttime,
        "ppid": parent.ppid,
        "comm": parent.comm,
        "cmdline": parent.cmdline[:512],
        "uid": parent.uid,
        "class": parent.klass,
        "reason": parent.reason,
        "container": parent.container_dict(),
        "cgroup": parent.cgroup.get("path"),
        "zombies": len(parent.zombies),
        "zombies_confirmed": len(case.confirmed),
        "zombies_remaining": (len(case.remaining) if case.action in ("signalled", "reaped_in_place")
                              else len(case.confirmed)),
        "zombies_reaped_in_place": case.reaped_in_place,
        "zombie_pids": sorted(z.pid for z in parent.zombies)[:ZOMBIE_PIDS_LISTED],
        "zombie_names": dict(Counter(z.comm for z in parent.zombies).most_common(10)),
        "oldest_zombie_seen_seconds": case.oldest_seen_seconds,
        "action": case.action,
        "signals": case.signals,
        "restarted": case.restarted,
        "skipped_rungs": case.skipped,
        "outcome": case.outcome,
        "detail": case.detail,
        "reparented_to": case.reparented_to,
        "reap_refusal": case.reap_refusal,
        "pids_headroom": case.pids_headroom,
        "leak_rate_per_hour": case.leak_rate_per_hour,
        "seconds_left": case.seconds_left,
        "diagnosis": case.diagnosis,
    }


def exit_code_for(report):
    return EXIT_ZOMBIES_REMAIN if any(p["outcome"] in FAILED_OUTCOMES for p in report["parents"]) else EXIT_OK


def format_summary(report):
    """A short human summary of a report."""
    pids = report["pids"]
    headroom = ""
    if pids.get("free") is not None:
        headroom = ", PIDs in use %s%% (%s free)" % (pids["used_percent"], pids["free"])
    lines = ["zombie-reaper %s: %d zombies under %d parents, scan %.3fs%s"
             % (report["mode"], report["zombies"], report["parents_with_zombies"], report["scan_seconds"], headroom)]
    if report["parents"]:
        lines.append("  %-8s %-18s %-18s %7s  %-22s %-19s %s"
                     % ("PID", "COMM", "CLASS", "ZOMBIES", "CONTAINER", "OUTCOME", "SIGNALS"))
    for parent in report["parents"]:
        container = parent["container"] or {}
        where = ""
        if container.get("pod_name"):
            where = "%s/%s" % (container["pod_namespace"], container["pod_name"])
        elif container.get("id"):
            where = "%s:%s" % (container.get("runtime"), container["id"][:12])
        elif container.get("pid_namespace"):
            where = "pidns:%s" % container["pid_namespace"]
        signals = ",".join(s["signal"] for s in parent["signals"]
                           if s["result"] in ("sent", "would_send", "reaped", "would_reap")) or "-"
        lines.append("  %-8d %-18s %-18s %7d  %-22s %-19s %s"
                     % (parent["pid"], printable(parent["comm"])[:18], parent["class"], parent["zombies"],
                        printable(where)[:22] or "-", parent["outcome"], signals))
        if parent["outcome"] in ("held", "cooldown"):
            lines.append("           %s" % printable(parent["detail"]))
        if parent["diagnosis"]:
            lines.append("           %s: %s" % (parent["diagnosis"]["kind"], printable(parent["diagnosis"]["text"])))
    if report["signals_sent"] or report["mode"] == "reap":
        lines.append("signals sent: %d, zombies cleared: %d (reaped in place, no signal: %d)"
                     % (report["signals_sent"], report["zombies_cleared"], report["zombies_reaped_in_place"]))
    for warning in report["warnings"]:
        lines.append("warning: " + printable(warning))
    return "\n".join(lines)
