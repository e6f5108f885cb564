# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One parent's journey through a run: its zombies, what was done, and how it ended."""

import time

from .procfs import process_alive, read_stat, zombie_still_there

# How long after a parent's death its adopter gets to reap the zombies before we call them stuck.
ADOPTION_GRACE_SECONDS = 1.0


class Case(object):
    """One parent's findings, actions and outcome."""

    def __init__(self, parent):
        self.parent = parent
        self.confirmed = list(parent.zombies)
        self.remaining = list(parent.zombies)
        self.outcome = None
        self.detail = None
        self.action = "none"
        self.signals = []
        self.skipped = []
        self.reparented_to = []
        self.oldest_seen_seconds = None
        self.parent_alive = True
        self.restarted = False  # a container init the restart gate let past the gentle rungs (dry run: would)
        self.reaped_in_place = 0
        self.reap_refusal = None  # info mode, eligible parents: "" when REAP could work, else why not
        self.died_at = None
        self.done = False
        self.pids_headroom = None  # the tightest PID limit over the parent (its container's, or the node's)
        self.leak_rate_per_hour = None  # None: not enough history
        self.seconds_left = None  # until that limit at that rate; None: unknown or not leaking
        self.diagnosis = None

    def finish(self, outcome, detail=None):
        self.outcome = outcome
        if detail:
            self.detail = detail
        self.done = True

    def refresh(self, proc_root):
        """Drop zombies that are gone; note whether the parent still lives. Cheap: stops at the first survivor
        unless the parent is gone (then every survivor's new parent is recorded)."""
        stat = read_stat(proc_root, self.parent.pid)
        self.parent_alive = process_alive(stat) and stat["starttime"] == self.parent.starttime
        if not self.parent_alive and self.died_at is None:
            self.died_at = time.monotonic()
        keep = []
        for index, zombie in enumerate(self.remaining):
            ppid = zombie_still_there(proc_root, zombie)
            if ppid is None:
                continue
            if self.parent_alive and ppid == self.parent.pid:
                keep.extend(self.remaining[index:])
                break
            keep.append(zombie)
            if ppid != self.parent.pid and ppid not in self.reparented_to:
                self.reparented_to.append(ppid)
        self.remaining = keep
        return not self.remaining or not self.parent_alive

    def confirm(self, proc_root):
        """Second look: same parent (pid + start time) and same zombies still defunct under it."""
        stat = read_stat(proc_root, self.parent.pid)
        if stat is None or stat["starttime"] != self.parent.starttime:
            self.confirmed = []
            self.remaining = []
            self.finish("unconfirmed", "the parent exited or its pid was reused")
            return
        self.confirmed = [z for z in self.confirmed if zombie_still_there(proc_root, z) == self.parent.pid]
        self.remaining = list(self.confirmed)
        if not self.confirmed:
            self.finish("unconfirmed", "the parent reaped its zombies before the confirming scan")

    def conclude(self, final=False):
        """Set the outcome once the parent is done; True when concluded."""
        if self.parent_alive:
            if not self.remaining:
                self.finish("reaped")
                return True
            if final:
                self.finish("persisting", "%d of %d zombies remain" % (len(self.remaining), len(self.confirmed)))
                return True
            return False
        # The parent is gone: ``refresh`` kept only the zombies still defunct elsewhere.
        if not self.remaining:
            self.finish("parent_exited")
        elif not final and time.monotonic() - self.died_at < ADOPTION_GRACE_SECONDS:
            return False  # give the adopting parent a moment to reap
        else:
            self.finish("reparented_defunct", "%d zombies now under pid(s) %s"
                        % (len(self.remaining), ", ".join(str(p) for p in self.reparented_to) or "?"))
        return True

    def skips_text(self):
        return "; ".join("%s skipped: %s" % (s["signal"], s["reason"]) for s in self.skipped) or None
