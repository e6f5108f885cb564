# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state file: first-seen times of zombies, container-init escalations and the run totals, across runs."""

import json
import os
import time

from .errors import ReaperError
from .files import check_directory, lock_exclusively, write_atomically

# 2 adds the restart log, 3 the totals; an older file is read as one with none of them.
STATE_VERSION = 3
RESTART_WINDOW_SECONDS = 86400  # the restart budget's rolling window
# What the node has done since its state file was created (the metrics' _total counters).
TOTALS = ("runs", "runs_failed", "zombies_reaped_in_place", "zombies_cleared", "container_restarts")
_FROM_REPORT = ("zombies_reaped_in_place", "zombies_cleared", "container_restarts")  # a run's own counts


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def empty_totals():
    totals = dict((name, 0) for name in TOTALS)
    totals.update(signals_sent={}, last_success=None)
    return totals


def _valid_totals(totals):
    return (isinstance(totals, dict) and all(_number(totals.get(name)) for name in TOTALS)
            and isinstance(totals.get("signals_sent"), dict) and all(_number(v) for v in totals["signals_sent"].values())
            and (totals.get("last_success") is None or _number(totals["last_success"])))


class State(object):
    def __init__(self, path):
        self.path = path
        self.first_seen = {}
        self.escalated = {}
        self.restarts = []  # [unix time, restart key] of each container-init restart in the window
        self.totals = empty_totals()
        self.warning = None
        if path:
            self._load()

    def _load(self):
        try:
            with open(self.path, "r") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            self.warning = "state file %s is unreadable or corrupt (%s); it is replaced" % (self.path, exc)
            return
        restarts = data.get("restarts", []) if isinstance(data, dict) else None
        totals = data.get("totals", empty_totals()) if isinstance(data, dict) else None
        if (not isinstance(data, dict) or data.get("version") not in (1, 2, STATE_VERSION)
                or not isinstance(restarts, list)
                or not all(isinstance(r, list) and len(r) == 2 and isinstance(r[0], (int, float))
                           and isinstance(r[1], str) for r in restarts)
                or not _valid_totals(totals)
                or not isinstance(data.get("first_seen"), dict) or not isinstance(data.get("escalated"), dict)
                or not all(isinstance(v, (int, float)) for v in data["first_seen"].values())
                or not all(isinstance(v, (int, float)) for v in data["escalated"].values())):
            self.warning = "state file %s has an unexpected layout; it is replaced" % self.path
            return
        self.first_seen = data["first_seen"]
        self.escalated = data["escalated"]
        self.restarts = restarts
        self.totals = dict(empty_totals(), **totals)

    def count_run(self, report):
        """Add what an acting run did to the totals (saved with the rest); it succeeded now, at its end."""
        for name in _FROM_REPORT:
            self.totals[name] += report[name]
        self.totals["runs"] += 1
        self.totals["last_success"] = round(time.time(), 3)
        sent = self.totals["signals_sent"]
        for parent in report["parents"]:
            for signal in parent["signals"]:
                if signal["result"] == "sent":
                    sent[signal["signal"]] = sent.get(signal["signal"], 0) + 1

    def forget(self, keys):
        """Drop the first-seen times of zombies known to be gone."""
        for key in keys:
            self.first_seen.pop(key, None)

    def save(self, live_zombie_keys, now, cooldown):
        """Write the state; ``live_zombie_keys`` (None: keep every first-seen time) are the zombies still there."""
        if not self.path:
            return
        if live_zombie_keys is not None:
            self.first_seen = dict((k, v) for k, v in self.first_seen.items() if k in live_zombie_keys)
        self.escalated = dict((k, v) for k, v in self.escalated.items() if now - v < max(cooldown, 1))
        self.restarts = self.recent_restarts(now)
        self.write()

    def write(self):
        data = json.dumps({"version": STATE_VERSION, "first_seen": self.first_seen, "escalated": self.escalated,
                           "restarts": self.restarts, "totals": self.totals})
        write_atomically(self.path, data.encode("utf-8"), 0o600, "state file", durable=True)

    def recent_restarts(self, now):
        return [r for r in self.restarts if now - r[0] < RESTART_WINDOW_SECONDS]

    def check_writable(self):
        """Before acting: a cooldown that cannot be saved would let the next run escalate again."""
        if self.path:
            check_directory(os.path.dirname(os.path.abspath(self.path)), "state file")


def lock_state(path):
    """The state file's lock, held by an acting run from load to save (None without a state file)."""
    return lock_exclusively(path + ".lock", "state file's lock") if path else None


def count_failed_run(path):
    """A run that stopped with an error: one more in the totals. Returns the totals, or None when they cannot
    be read or written (an unusable state file is often the error itself; the metrics then carry none)."""
    if not path or not isinstance(path, str):
        return None
    try:
        lock = lock_state(path)
    except ReaperError:  # another run holds it (LockBusy), or it cannot be opened
        return None
    try:
        state = State(path)
        if state.warning:
            return None
        state.totals["runs_failed"] += 1
        state.write()
        return state.totals
    except ReaperError:
        return None
    finally:
        lock.close()
