# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""REAP's entry point: make a parent wait4() its own zombies, in rounds, and say how it went.

The parent's thread is seized (PTRACE_SEIZE + PTRACE_INTERRUPT: no SIGSTOP, so its own parent sees no
stop or continue), its registers are saved, it runs wait4(<zombie>, NULL, WNOHANG|__WALL, NULL) once per
zombie from a code cave in its own text whose resume code brings it back even if the reaper dies
(injection.py), then its registers are restored with the kernel's restart decision applied and it is
detached: an interrupted pause(), read() or nanosleep() carries on as if nothing happened."""

import errno
import os
import signal
import time

from ..procfs import read_stat, read_status, zombie_still_there
from .refusal import ReapRefused, RseqBusy, refusal
from .round import Round

REAP_RSEQ_RETRIES = 5


class ReapResult(object):
    def __init__(self):
        self.reaped = []
        self.refused = None
        self.rounds = 0
        self.stopped_seconds = 0.0
        self.signals_passed_on = 0

    def to_dict(self):
        return {"signal": "REAP", "result": "refused" if self.refused and not self.reaped else "reaped",
                "reaped": len(self.reaped), "rounds": self.rounds,
                "stopped_ms": round(self.stopped_seconds * 1000, 3), "signals_passed_on": self.signals_passed_on,
                "refused": self.refused, "at": round(time.time(), 3)}


def reap_in_place(proc_root, parent, zombies, deadline):
    """Make ``parent`` wait4() each of ``zombies`` itself, in rounds until ``deadline``."""
    result = ReapResult()
    info = read_status(proc_root, parent.pid)
    reason = refusal(parent, info)
    if reason:
        result.refused = reason
        return result
    level = len(parent.nspid) - 1
    targets = []
    for zombie in zombies:
        nspid = _namespace_pid(proc_root, zombie, level)
        if nspid:
            targets.append((zombie, nspid))
    seccomp = info.get("Seccomp") == 2
    catchable = set(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP}
    _protect_self_from_oom()
    rseq_busy = 0
    while targets and time.monotonic() < deadline:
        targets = [(z, n) for z, n in targets if zombie_still_there(proc_root, z) == parent.pid]
        if not targets:
            break  # never attach when there is nothing to reap
        tid, state = _pick_thread(proc_root, parent.pid)
        if tid is None:
            result.refused = "the parent exited"
            break
        if state == "D":
            time.sleep(0.01)
            if _pick_thread(proc_root, parent.pid)[1] == "D":
                result.refused = "the parent is in uninterruptible sleep (or vfork); not attached"
                break
        one = Round(proc_root, parent, tid, targets, seccomp)
        # No signal may end the reaper between seize and detach (see _protect_self_from_oom).
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, catchable)
        try:
            one.run()
        except RseqBusy:
            rseq_busy += 1
            if rseq_busy >= REAP_RSEQ_RETRIES:
                result.refused = "the parent kept being stopped inside an rseq critical section"
        except ReapRefused as exc:
            result.refused = str(exc)
        except OSError as exc:
            result.refused = "the parent exited" if exc.errno == errno.ESRCH else "ptrace failed: %s" % exc
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            result.rounds += 1
            result.stopped_seconds += one.stopped_seconds
            result.reaped.extend(one.reaped)
            if one.pass_on_signal:
                result.signals_passed_on += 1
        if result.refused:
            break
        done = set(id(z) for z in one.reaped)
        targets = [(z, n) for z, n in targets if id(z) not in done]
        if targets and (one.pass_on_signal or not one.reaped):
            time.sleep(0.001)  # let it handle what arrived before the next round
    return result


def _pick_thread(proc_root, pid):
    """A live thread of ``pid`` (the leader unless it has exited) and its state letter."""
    stat = read_stat(proc_root, pid)
    if stat and stat["state"] not in ("Z", "X"):
        return pid, stat["state"]
    try:
        tids = sorted(int(t) for t in os.listdir("%s/%d/task" % (proc_root, pid)) if t.isdigit())
    except OSError:
        return None, None
    for tid in tids:
        task = read_stat("%s/%d/task" % (proc_root, pid), tid)
        if task and task["state"] not in ("Z", "X"):
            return tid, task["state"]
    return None, None


def _namespace_pid(proc_root, zombie, level):
    """The zombie's pid as seen from PID namespace ``level`` (0 = the /proc we read)."""
    if level == 0:
        return zombie.pid
    info = read_status(proc_root, zombie.pid)
    nspid = (info or {}).get("NSpid") or []
    return nspid[level] if len(nspid) > level else None


def _protect_self_from_oom():
    """A reaper killed mid-round no longer harms the parent (injection.py), but its round is lost: the
    OOM killer should pick someone else."""
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("-1000")
    except OSError:
        pass  # needs CAP_SYS_RESOURCE; the systemd unit sets OOMScoreAdjust instead
