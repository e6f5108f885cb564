# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Acting on eligible parents: every one walks the ladder together, rung by rung."""

import time

from .classify import CLASS_CONTAINER_INIT
from .diagnosis import PROBE_ORPHANS
from .ladder import REAP, REAP_ROUND_SECONDS
from .pidfd import send_signal
from .report import printable


def run_ladder(cases, policy, state, now, dry_run, progress):
    """Advance every eligible parent through the ladder together: one ladder's time per run."""
    proc_root = policy.proc_root
    active = list(cases)
    reaped_any = False
    try:
        for rung in policy.ladder:
            active = [c for c in active if not c.done]
            if not active:
                break
            signalled = []
            for case in active:
                parent = case.parent
                reason = rung.skip_reason(parent)
                if reason:
                    case.skipped.append({"signal": rung.action, "reason": reason})
                    continue
                if rung.action == REAP:
                    reaped_any = _reap_rung(case, rung, policy, state, dry_run, progress) or reaped_any
                    continue
                if (not rung.gentle and parent.klass == CLASS_CONTAINER_INIT
                        and not _restart_allowed(case, policy, state, now, dry_run)):
                    continue
                if dry_run:
                    case.signals.append({"signal": rung.action, "result": "would_send"})
                    continue
                result = send_signal(proc_root, parent.pid, parent.starttime, rung.signum)
                case.signals.append({"signal": rung.action, "result": result, "at": round(time.time(), 3)})
                progress("%s -> pid %d (%s): %s" % (rung.action, parent.pid, printable(parent.comm), result))
                if result == "sent":
                    case.action = "signalled"
                    signalled.append(case)
                elif result == "gone":
                    case.refresh(proc_root)
                    if not case.conclude():
                        signalled.append(case)
                else:
                    case.finish(result)
            if signalled and not dry_run:
                _wait_for(signalled, rung.wait, proc_root)
    finally:
        if reaped_any:
            from .reap.tracee import release_abandoned  # pylint: disable=import-outside-toplevel
            release_abandoned()
    for case in cases:
        if not case.done:
            _final_outcome(case, dry_run, proc_root)


def _final_outcome(case, dry_run, proc_root):
    if dry_run:
        if any(s["result"] == "would_send" for s in case.signals):
            case.action = "would_signal"
            case.finish("would_signal", "rungs: %s" % ", ".join(s["signal"] for s in case.signals))
        else:
            case.finish("no_rung_applies", case.skips_text())
    elif not any(s["result"] in ("sent", "reaped") for s in case.signals):
        case.finish("no_rung_applies", case.skips_text())
    else:
        case.refresh(proc_root)
        case.conclude(final=True)


def _reap_rung(case, rung, policy, state, dry_run, progress):
    """The REAP rung for one parent; True when a tracer ran. Success ends the ladder for it; a refusal hands
    it to the next rung."""
    proc_root = policy.proc_root
    now = time.time()
    aged = [z for z in case.remaining if now - state.first_seen.get(z.key, now) >= policy.reap_min_age_seconds]
    if not aged:
        case.finish("too_young", "no zombie has been defunct for reap_min_age_seconds (%gs) yet; "
                    "left for a later run" % policy.reap_min_age_seconds)
        return False
    young = len(case.remaining) - len(aged)
    left_note = "; %d younger than reap_min_age_seconds left for a later run" % young if young else ""
    if dry_run:
        from .reap.refusal import precheck  # pylint: disable=import-outside-toplevel
        reason = precheck(proc_root, case.parent)
        if reason:
            case.skipped.append({"signal": REAP, "reason": reason})
            return False
        case.signals.append({"signal": REAP, "result": "would_reap", "zombies": len(aged)})
        case.action = "would_reap"
        case.finish("would_reap", "REAP would make the parent wait4() %d zombies%s" % (len(aged), left_note))
        return False
    from .reap.in_place import reap_in_place  # pylint: disable=import-outside-toplevel
    result = reap_in_place(proc_root, case.parent, aged, time.monotonic() + max(rung.wait, REAP_ROUND_SECONDS))
    case.signals.append(result.to_dict())
    progress("REAP -> pid %d (%s): %d reaped in place in %d round(s), stopped %.3f ms%s"
             % (case.parent.pid, printable(case.parent.comm), len(result.reaped), result.rounds,
                result.stopped_seconds * 1000,
                ", refused: " + result.refused if result.refused else ""))
    if result.reaped:
        case.action = "reaped_in_place"
        case.reaped_in_place = len(result.reaped)
    if result.refused:
        case.skipped.append({"signal": REAP, "reason": "refused: " + result.refused})
    case.refresh(proc_root)
    if not case.parent_alive:
        case.conclude()
        return True
    if result.refused and case.remaining:
        return True  # the signal rungs take over
    aged_keys = set(z.key for z in aged)
    if not any(z.key in aged_keys for z in case.remaining):
        # Zombies younger than reap_min_age_seconds are not a reason to escalate to signals;
        # they stay in ``remaining`` (reported, not counted as cleared) for a later run.
        case.finish("reaped", "%d reaped in place by the parent's own wait4(), no signal%s"
                    % (len(result.reaped), left_note))
    return True


def _restart_allowed(case, policy, state, now, dry_run):
    """A container init past its gentle rungs is a restart of the tenant: only under PID pressure (unless
    restart_container_init says otherwise), within the node's restart budget and the container's cooldown."""
    if case.restarted:
        return True
    mode = policy.restart_container_init
    if mode == "never":
        return _hold(case, "restart_container_init is never")
    probes = (case.diagnosis or {}).get("kind") == PROBE_ORPHANS
    if (mode == "on_pressure" or probes) and not under_pressure(case, policy):
        why = "probe orphans are never a reason to restart" if probes and mode == "always" else "no PID pressure"
        return _hold(case, "%s: %s; restarts at %g%% of the limit or %gs left" % (
            why, pressure_text(case), policy.restart_pressure_percent, policy.restart_time_left_seconds))
    recent = state.recent_restarts(now)
    if len(recent) >= policy.restart_budget:
        return _hold(case, "the node's restart budget is spent: %d container-init restart(s) in 24 h, restart_budget "
                     "%d; %s" % (len(recent), policy.restart_budget, pressure_text(case)))
    key = case.parent.restart_key(policy.proc_root)
    last = state.escalated.get(key)
    if last is not None and now - last < policy.container_init_cooldown:
        case.finish("cooldown", "escalated %ds ago; container_init_cooldown is %ds"
                    % (now - last, policy.container_init_cooldown))
        return False
    if not dry_run:
        state.escalated[key] = now
        state.restarts.append([now, key])
    case.restarted = True
    return True


def _hold(case, why):
    case.finish("held", "not restarted: " + why)
    return False


def under_pressure(case, policy):
    room = case.pids_headroom
    if room and room["used_percent"] >= policy.restart_pressure_percent:
        return True
    return case.seconds_left is not None and case.seconds_left <= policy.restart_time_left_seconds


def pressure_text(case):
    room = case.pids_headroom
    text = ("%d of %d PIDs in use (%.1f%%, %s)" % (room["used"], room["limit"], room["used_percent"], room["where"])
            if room else "no PID limit could be read")
    rate = "unknown" if case.leak_rate_per_hour is None else "%g/h" % case.leak_rate_per_hour
    left = "unknown" if case.seconds_left is None else "%gs" % case.seconds_left
    return "%s, leak rate %s, time left %s" % (text, rate, left)


def _wait_for(cases, seconds, proc_root):
    deadline = time.monotonic() + seconds
    pending = list(cases)
    interval = 0.02
    while pending:
        pending = [c for c in pending if not (c.refresh(proc_root) and c.conclude())]
        if not pending or time.monotonic() >= deadline:
            return
        time.sleep(min(interval, max(deadline - time.monotonic(), 0)))
        interval = min(interval * 2, 0.25)
