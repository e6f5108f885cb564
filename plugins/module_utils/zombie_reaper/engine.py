# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run, phase by phase: scan, inspect and classify, triage, confirm, age, act, save, report."""

import fnmatch
import os
import time

from .act import run_ladder
from .attribution import container_names, pod_names
from .records import RuntimeRecords
from .case import Case
from .classify import CLASS_HOST_PROCESS, NEVER_SIGNALLED, classify, reaper_lineage
from .errors import NotRecorded, ReaperError
from .legacy import legacy_files_present, legacy_warning
from .parent import inspect_parent
from .diagnosis import diagnose
from .pressure import headroom, leak_rate_per_hour, seconds_left
from .procfs import CAP_KILL, has_capability, pid_headroom
from .report import build_report
from .scan import SCANNERS
from .state import State, lock_state

MODE_INFO = "info"  # read only: report what is there and what a run would act on
MODE_ACT = "act"  # act on eligible parents (nothing is sent with dry_run)


def run(policy, mode=MODE_ACT, dry_run=False, progress=None, scan=None, born=None, partial=False, rates=None):
    """Scan, classify, confirm, act (unless ``dry_run`` or info mode), verify; return the report.

    Watch mode passes the ``scan`` it made: ``partial`` when it holds only the parents of recent exits (no
    confirming scan then: the exit event was the first look and it is ``reap_min_age_seconds`` old; the state
    file forgets only the zombies this run saw go). ``born`` maps zombie keys to their death (Unix time), from
    the exit events: a zombie's true age, where a scan only knows when it first saw it. ``rates`` maps parent
    pids to their leak rate per hour counted over the exit stream (it wins over the rate from first-seen times,
    which a watch that reaps within seconds keeps too short to tell)."""
    if mode not in (MODE_INFO, MODE_ACT):
        raise ValueError("mode must be %r or %r" % (MODE_INFO, MODE_ACT))
    progress = progress or (lambda message: None)
    acting = mode == MODE_ACT and not dry_run
    started = time.monotonic()
    now = time.time()
    # An acting run holds the state file's lock from load to save: a run beside it never loses an entry.
    state_lock = lock_state(policy.state_file) if acting else None
    try:
        return _run_locked(policy, mode, dry_run, progress, started, now, scan, born or {}, partial, rates or {})
    finally:
        if state_lock is not None:
            state_lock.close()


def _run_locked(policy, mode, dry_run, progress, started, now, scan, born, partial, rates):
    state = State(policy.state_file)
    warnings = [state.warning] if state.warning else []
    legacy = legacy_files_present(policy.proc_root)
    if legacy:
        warnings.append(legacy_warning(legacy))

    if scan is None:
        scan_started = time.monotonic()
        scan = SCANNERS[policy.backend](policy.proc_root, want_ppids=policy.limit_subtree is not None)
        scan.seconds = time.monotonic() - scan_started
    scan_seconds = scan.seconds

    cases, outside = _inspect(scan, policy)
    candidates = _triage(cases, policy)
    if not partial:
        _confirm(candidates, policy, mode)
    live_keys = _age(cases, state, now, born)
    pids = pid_headroom(policy.proc_root, scan.processes)
    _assess(cases, state, pids, now, rates)
    eligible = _eligible(candidates, policy)

    acting = mode == MODE_ACT and not dry_run
    if mode == MODE_INFO:
        _predict_reap(eligible, policy)
    else:
        eligible = _cap(eligible, policy)
        if acting:
            _check_rights(eligible)
            state.check_writable()
        run_ladder(eligible, policy, state, now, dry_run, progress)

    report = build_report(cases, scan, policy, mode, dry_run, warnings, outside, scan_seconds, started, pids, legacy)
    # What the node has done so far, this run included (None without a state file).
    report["totals"] = state.totals if policy.state_file else None
    if acting:
        state.count_run(report)
        try:
            if partial:
                state.forget(_gone_keys(cases))
            state.save(None if partial else live_keys, now, policy.container_init_cooldown)
        except ReaperError as exc:
            report["warnings"].append("acted, but %s" % exc)
            raise NotRecorded("acted, but %s" % exc, report) from None
    return report


def _inspect(scan, policy):
    """A Case per parent inside the limits, classified; worst first. Returns (cases, zombies outside)."""
    lineage = reaper_lineage(policy.proc_root)
    pods = names = records = None
    cases = []
    outside = 0
    for ppid, zombies in scan.zombies_by_parent.items():
        parent = inspect_parent(policy.proc_root, ppid)
        if parent is None:
            continue  # the parent exited between the reads; its zombies are someone else's now
        parent.zombies = zombies
        if records is None:
            records = RuntimeRecords(policy.runtime_state_root, exported=policy.runtime_records)
        depth, record = records.find_in(parent.cgroup["paths"])
        if record and depth >= parent.cgroup["depth"]:
            parent.apply_record(record)
        if parent.in_container and parent.cgroup.get("pod_uid") and not parent.pod:
            if pods is None:
                pods = pod_names(policy.pods_log_dir)
            parent.pod = pods.get(parent.cgroup["pod_uid"])
            if parent.pod and parent.cgroup.get("id"):
                if names is None:
                    names = container_names(policy.pods_log_dir)
                parent.container_name = parent.container_name or names.get(parent.cgroup["id"])
        if not _within_limits(parent, policy, scan.ppid_of):
            outside += len(zombies)
            continue
        classify(parent, lineage, policy.protect)
        cases.append(Case(parent))
    cases.sort(key=lambda c: (-len(c.confirmed), c.parent.pid))
    return cases, outside


def _within_limits(parent, policy, ppid_of):
    if policy.limit_subtree is not None:
        pid, seen = parent.pid, set()
        while pid not in seen and pid != policy.limit_subtree:
            seen.add(pid)
            pid = (ppid_of or {}).get(pid, 0)
            if pid <= 0:
                return False
    if policy.limit_cgroup is not None:
        if not parent.cgroup.get("path") or not fnmatch.fnmatchcase(parent.cgroup["path"], policy.limit_cgroup):
            return False
    if policy.limit_container is not None:
        container = parent.container_dict() or {}
        wanted = policy.limit_container
        candidates = [container.get("id") or "", container.get("pod_uid") or ""]
        if container.get("pod_name"):
            candidates.append("%s/%s" % (container["pod_namespace"], container["pod_name"]))
        if not any(c and (c == wanted or (len(wanted) >= 4 and c.startswith(wanted))) for c in candidates):
            return False
    return True


def _triage(cases, policy):
    """Decide what is a candidate before confirming, so protected parents cost no second read."""
    candidates = []
    for case in cases:
        klass = case.parent.klass
        if klass in NEVER_SIGNALLED:
            case.finish("protected", case.parent.reason)
        elif klass == CLASS_HOST_PROCESS and policy.scope == "containers":
            case.finish("out_of_scope", "scope is 'containers'; use scope 'all' to act on host processes")
        elif len(case.confirmed) < policy.min_zombies:
            case.finish("below_threshold", "%d < min_zombies %d" % (len(case.confirmed), policy.min_zombies))
        else:
            candidates.append(case)
    return candidates


def _confirm(candidates, policy, mode):
    """The second look, confirm_seconds after the first (with REAP and no state file, at least its age)."""
    confirm_seconds = policy.confirm_seconds
    if policy.reaps_in_place and not policy.state_file and mode != MODE_INFO:
        # Without a state file the confirming window is the only age REAP can vouch for.
        confirm_seconds = max(confirm_seconds, policy.reap_min_age_seconds)
    if candidates and confirm_seconds > 0:
        time.sleep(confirm_seconds)
        for case in candidates:
            case.confirm(policy.proc_root)


def _age(cases, state, now, born):
    """First-seen times of the confirmed zombies (a known death time wins when earlier); returns their keys
    (what the state file keeps)."""
    live_keys = set()
    first_seen = state.first_seen
    for case in cases:
        for zombie in case.confirmed:
            key = zombie.key
            live_keys.add(key)
            died = born.get(key)
            seen = first_seen.get(key)
            if died is not None and (seen is None or died < seen):
                first_seen[key] = died
            elif seen is None:
                first_seen[key] = now
        if case.confirmed:
            case.oldest_seen_seconds = round(now - min(state.first_seen[z.key] for z in case.confirmed), 3)
    return live_keys


def _gone_keys(cases):
    """Keys of the zombies this run saw go (a partial run forgets only those)."""
    gone = set()
    for case in cases:
        if case.action in ("signalled", "reaped_in_place"):
            left = set(z.key for z in case.remaining)
            gone.update(z.key for z in case.confirmed if z.key not in left)
    return gone


def _assess(cases, state, pids, now, rates):
    """Per parent: the tightest PID limit over it, its leak rate, the time left, and what it is (diagnosis)."""
    for case in cases:
        case.pids_headroom = headroom(case.parent.cgroup, pids)
        rate = rates.get(case.parent.pid)
        case.leak_rate_per_hour = (rate if rate is not None
                                   else leak_rate_per_hour([state.first_seen[z.key] for z in case.confirmed], now))
        case.seconds_left = seconds_left(case.pids_headroom, case.leak_rate_per_hour)
        case.diagnosis = diagnose(case.parent, case.leak_rate_per_hour)


def _eligible(candidates, policy):
    eligible = []
    for case in candidates:
        if case.done:
            continue
        if len(case.confirmed) < policy.min_zombies:
            case.finish("below_threshold", "%d confirmed < min_zombies %d" % (len(case.confirmed), policy.min_zombies))
        elif policy.state_file and policy.min_age_seconds and case.oldest_seen_seconds < policy.min_age_seconds:
            case.finish("too_young", "oldest zombie first seen %ss ago; min_age_seconds is %s"
                        % (case.oldest_seen_seconds, policy.min_age_seconds))
        else:
            eligible.append(case)
    return eligible


def _predict_reap(eligible, policy):
    """Info mode: each eligible parent, and whether REAP could reap it in place (asked without attaching)."""
    if not eligible:
        return
    # The pre-check loads no ctypes (see reap/refusal.py).
    from .reap.refusal import precheck  # pylint: disable=import-outside-toplevel
    for case in eligible:
        case.finish("eligible", "the ladder would run on this parent")
        case.reap_refusal = precheck(policy.proc_root, case.parent) or ""


def _cap(eligible, policy):
    if policy.max_parents and len(eligible) > policy.max_parents:
        for case in eligible[policy.max_parents:]:
            case.finish("deferred", "max_parents %d reached" % policy.max_parents)
        return eligible[:policy.max_parents]
    return eligible


def _check_rights(cases):
    if not cases or has_capability(CAP_KILL):
        return
    euid = os.geteuid()
    foreign = [c.parent for c in cases if c.parent.uid is not None and c.parent.uid != euid]
    if foreign:
        raise ReaperError(
            "no right to signal pid %d (uid %s) and %d other parent(s): run as root or with CAP_KILL; "
            "nothing was signalled" % (foreign[0].pid, foreign[0].uid, len(foreign) - 1))
