# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state file: first-seen times of zombies and container-init escalations, across runs."""

import json
import os

from .files import check_directory, lock_exclusively, write_atomically

STATE_VERSION = 2  # 2 adds the restart log; a version 1 file is read as one with no restarts
RESTART_WINDOW_SECONDS = 86400  # the restart budget's rolling window


class State(object):
    def __init__(self, path):
        self.path = path
        self.first_seen = {}
        self.escalated = {}
        self.restarts = []  # [unix time, restart key] of each container-init restart in the window
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
        if (not isinstance(data, dict) or data.get("version") not in (1, STATE_VERSION)
                or not isinstance(restarts, list)
                or not all(isinstance(r, list) and len(r) == 2 and isinstance(r[0], (int, float))
                           and isinstance(r[1], str) for r in restarts)
                or not isinstance(data.get("first_seen"), dict) or not isinstance(data.get("escalated"), dict)
                or not all(isinstance(v, (int, float)) for v in data["first_seen"].values())
                or not all(isinstance(v, (int, float)) for v in data["escalated"].values())):
            self.warning = "state file %s has an unexpected layout; it is replaced" % self.path
            return
        self.first_seen = data["first_seen"]
        self.escalated = data["escalated"]
        self.restarts = restarts

    def save(self, live_zombie_keys, now, cooldown):
        if not self.path:
            return
        self.first_seen = dict((k, v) for k, v in self.first_seen.items() if k in live_zombie_keys)
        self.escalated = dict((k, v) for k, v in self.escalated.items() if now - v < max(cooldown, 1))
        self.restarts = self.recent_restarts(now)
        data = json.dumps({"version": STATE_VERSION, "first_seen": self.first_seen, "escalated": self.escalated,
                           "restarts": self.restarts})
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
