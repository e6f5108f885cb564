# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state file: first-seen times of zombies and container-init escalations, across runs."""

import json
import os

from .errors import ReaperError

STATE_VERSION = 1


class State(object):
    def __init__(self, path):
        self.path = path
        self.first_seen = {}
        self.escalated = {}
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
        if (not isinstance(data, dict) or data.get("version") != STATE_VERSION
                or not isinstance(data.get("first_seen"), dict) or not isinstance(data.get("escalated"), dict)
                or not all(isinstance(v, (int, float)) for v in data["first_seen"].values())
                or not all(isinstance(v, (int, float)) for v in data["escalated"].values())):
            self.warning = "state file %s has an unexpected layout; it is replaced" % self.path
            return
        self.first_seen = data["first_seen"]
        self.escalated = data["escalated"]

    def save(self, live_zombie_keys, now, cooldown):
        if not self.path:
            return
        self.first_seen = dict((k, v) for k, v in self.first_seen.items() if k in live_zombie_keys)
        self.escalated = dict((k, v) for k, v in self.escalated.items() if now - v < max(cooldown, 1))
        directory = os.path.dirname(os.path.abspath(self.path))
        tmp = "%s.%d.tmp" % (self.path, os.getpid())
        try:
            os.makedirs(directory, exist_ok=True)
            with open(tmp, "w") as handle:
                json.dump({"version": STATE_VERSION, "first_seen": self.first_seen,
                           "escalated": self.escalated}, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise ReaperError("cannot write state file %s: %s" % (self.path, exc.strerror or exc)) from None
