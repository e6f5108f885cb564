# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``zombie-reaper watch``: act on zombies as they are born (exit events), the /proc scan kept as the truth.

Each exit is remembered under its parent; ``reap_min_age_seconds`` after it, one peek tells whether it is still
a zombie (counted in its parent's leak rate), and the parents holding such zombies go through the engine in one
round, with a scan of those parents only. A full scan runs at start, every ``rescan_seconds`` and at once after
lost events. Signals only set flags: SIGTERM ends the loop between rounds (never mid-REAP), SIGHUP reads the
options again."""

import heapq
import os
import select
import signal
import time

from ..engine import MODE_ACT, run
from ..errors import LockBusy, NotRecorded, ReaperError
from ..files import lock_exclusively
from ..metrics import write_textfile
from ..procfs import read_stat, zombie_still_there
from ..report import format_summary
from ..scan import SCANNERS
from .connector import ConnectorUnavailable, EventsLost, ProcConnector
from .delays import ReapDelays
from .notify import notify, watchdog_seconds
from .partial import ChildrenUnlisted, scan_parents
from .rates import LeakRates
from .view import View

ROUND_GAP_SECONDS = 0.5  # a parent leaking continuously goes through a round at most this often
RECHECK_SECONDS = 60.0  # a parent a round left alone (protected, held, a dry run...) is looked at again after
METRICS_SECONDS = 60.0  # the metrics file is rewritten at least this often
# and after a round changed it, at most this often: the role's root step that publishes it is a process each time.
METRICS_MIN_GAP_SECONDS = 15.0
LOCK_RETRY_SECONDS = 1.0
DRAIN_MAX = 4096  # datagrams read per wakeup, so the loop stays responsive under a storm
# Events are read at most this often: one wakeup then reads many (the 8 MiB buffer holds minutes of them).
COALESCE_SECONDS = 0.05
PENDING_PER_PARENT = 100000  # exits remembered per parent; past it the scan of the parent still finds them
BORN_MAX = 1000000
# Outcomes that leave zombies a later look can clear with no new exit: the rest wait for exits or a full scan.
RECHECKED = ("reaped", "too_young", "deferred")
BUSY = "busy"  # a round the run lock kept from running
# Outcomes after which another look within RECHECK_SECONDS would decide the same.
SETTLED = ("protected", "out_of_scope", "held", "cooldown", "persisting", "no_rung_applies", "reparented_defunct",
           "permission_denied", "identity_changed", "would_signal", "would_reap", "eligible")


class Watcher(object):
    """The loop. ``load()`` returns (policy, settings): the options, read again on SIGHUP."""

    def __init__(self, load, say, clock=time.monotonic):
        self.load = load
        self.say = say
        self.clock = clock
        self.policy, self.settings = load()
        self.connector = None
        self.pending = {}  # ppid -> [(pid, death in monotonic seconds)]
        self.due = []  # heap of (monotonic time, ppid)
        self.not_before = {}  # ppid -> monotonic time of its next possible round
        self.rechecks = {}  # ppid -> when a parent a round left with zombies is looked at again, exits or not
        self.born = {}  # zombie key -> death (Unix time)
        self.first_sight = set()  # keys in born whose time is a scan's first sight, not a death
        self.delays = ReapDelays()
        self.leaks = LeakRates()
        self.view = View()
        self.counts = dict(exits=0, rounds=0, full_scans=0, events_lost=0)
        self.lost = False
        self.retry = set()  # parents of a round the lock kept from running
        self.children_listed = True
        self.stopping = False
        self.reloading = False
        self.metrics_changed = False
        self.metrics_written = None  # monotonic

    # -- the loop --------------------------------------------------------------------------------------------
    def serve(self):
        wake_r, wake_w = os.pipe()
        for fd in (wake_r, wake_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGHUP, self._reload)
        try:
            self._connect()
            self._full_round("start")
            notify("READY=1\nSTATUS=%s" % self.status())
            self._loop(wake_r)
            self._write_metrics()  # the counts it stopped with (their timestamp then tells that it stopped)
        finally:
            signal.set_wakeup_fd(-1)
            os.close(wake_r)
            os.close(wake_w)
            if self.connector is not None:
                self.connector.close()
        notify("STOPPING=1")
        self.say("watch: stopped (%s)" % self.status())

    def _loop(self, wake_r):
        watchdog = watchdog_seconds()
        now = self.clock()
        next_full = now + self.settings["rescan_seconds"]
        next_metrics = now + METRICS_SECONDS
        next_ping = now + (watchdog / 2 if watchdog else 3600.0)
        drained = 0.0
        while not self.stopping:
            deadline = min(next_full, next_metrics, next_ping, self.due[0][0] if self.due else next_full)
            if self.metrics_changed:
                deadline = min(deadline, self.metrics_written + METRICS_MIN_GAP_SECONDS)
            fds = [wake_r]
            if self.connector is not None:
                if self.clock() >= drained + COALESCE_SECONDS:
                    fds.append(self.connector.sock)
                else:
                    deadline = min(deadline, drained + COALESCE_SECONDS)
            ready = select.select(fds, [], [], max(0.0, deadline - self.clock()))[0]
            if wake_r in ready:
                _drain_pipe(wake_r)
            if self.connector is not None and self.connector.sock in ready:
                self._read_events()
                drained = self.clock()
            if self.stopping:
                break
            if self.reloading:
                self._apply_reload()
            now = self.clock()
            if self.lost or now >= next_full:
                self._full_round("events were lost" if self.lost else "periodic")
                next_full = self.clock() + self.settings["rescan_seconds"]
            elif self.due and self.due[0][0] <= now:
                self._partial_round(now)
            now = self.clock()
            if now >= next_metrics or (self.metrics_changed and now >= self.metrics_written + METRICS_MIN_GAP_SECONDS):
                self._write_metrics()
                next_metrics = now + METRICS_SECONDS
            if watchdog and now >= next_ping:
                notify("WATCHDOG=1\nSTATUS=%s" % self.status())
                next_ping = now + watchdog / 2

    def _stop(self, _signum, _frame):
        self.stopping = True

    def _reload(self, _signum, _frame):
        self.reloading = True

    def _apply_reload(self):
        self.reloading = False
        try:
            self.policy, self.settings = self.load()
        except ReaperError as exc:
            self.say("watch: reload refused, the options in force are kept: %s" % exc)
            return
        self.say("watch: options read again")

    def status(self):
        return ("%s; exits %d, rounds %d, full scans %d, events lost %d"
                % ("exit events" if self.connector is not None else "periodic scans only", self.counts["exits"],
                   self.counts["rounds"], self.counts["full_scans"], self.counts["events_lost"]))

    # -- events ----------------------------------------------------------------------------------------------
    def _connect(self):
        try:
            self.connector = ProcConnector(self.settings["receive_buffer"])
            self.connector.open()
        except ConnectorUnavailable as exc:
            self.connector = None
            self.say("watch: no exit events (%s); running the full scan alone, every %gs"
                     % (exc, self.settings["rescan_seconds"]))

    def _read_events(self):
        me = os.getpid()
        min_age = self.policy.reap_min_age_seconds
        for _read in range(DRAIN_MAX):
            try:
                events = self.connector.read(0)
            except EventsLost:
                self.lost = True
                self.counts["events_lost"] += 1
                continue
            if events is None:
                return
            for event in events:
                if not event.is_process or event.ppid == me or event.tgid == me:
                    continue
                self.counts["exits"] += 1
                exits = self.pending.get(event.ppid)
                if exits is None:
                    self.pending[event.ppid] = [(event.pid, event.at)]
                    heapq.heappush(self.due, (max(event.at + min_age, self.not_before.get(event.ppid, 0.0)),
                                              event.ppid))
                elif len(exits) < PENDING_PER_PARENT:
                    exits.append((event.pid, event.at))

    def _take_due(self, now):
        """Zombies among the exits now old enough, by their parent now; the younger exits stay pending."""
        min_age = self.policy.reap_min_age_seconds
        wall = time.time() - now  # monotonic -> Unix time
        parents = set()
        while self.due and self.due[0][0] <= now:
            _at, ppid = heapq.heappop(self.due)
            if self.rechecks.get(ppid, now + 1) <= now:
                del self.rechecks[ppid]
                parents.add(ppid)
            exits = self.pending.pop(ppid, None)
            if not exits:
                continue
            later = self.not_before.get(ppid, 0.0)
            if later > now:
                self.pending[ppid] = exits
                heapq.heappush(self.due, (later, ppid))
                continue
            young = [e for e in exits if e[1] + min_age > now]
            for pid, died in exits:
                if died + min_age > now:
                    continue
                stat = read_stat(self.policy.proc_root, pid)
                if stat is not None and stat["state"] == "Z":
                    parents.add(stat["ppid"])
                    self.leaks.add(stat["ppid"], died)
                    key = "%d:%d" % (pid, stat["starttime"])
                    if key in self.born or len(self.born) < BORN_MAX:  # the death beats a scan's first sight
                        self.born[key] = died + wall
                        self.first_sight.discard(key)
            if young:
                self.pending[ppid] = young
                heapq.heappush(self.due, (max(young[0][1] + min_age, now + ROUND_GAP_SECONDS), ppid))
        return parents

    # -- rounds ----------------------------------------------------------------------------------------------
    def _partial_round(self, now):
        parents = self._take_due(now) | self.retry
        self.retry = set()
        if not parents:
            return
        if not self.children_listed:
            self.lost = True  # the next pass of the loop makes it a full round
            return

        def scan_them():
            started = self.clock()
            scan = scan_parents(self.policy.proc_root, sorted(parents), self.policy.limit_subtree is not None)
            scan.seconds = self.clock() - started
            first_sight = time.time()
            for zombies in scan.zombies_by_parent.values():
                for zombie in zombies:  # one whose exit was not seen: its age counts from now
                    if zombie.key not in self.born and len(self.born) < BORN_MAX:
                        self.born[zombie.key] = first_sight
                        self.first_sight.add(zombie.key)
            return scan

        try:
            result = self._round(scan_them, partial=True)
        except ChildrenUnlisted as exc:
            self.children_listed = False
            self.say("watch: %s; every round is a full scan" % exc)
            self.lost = True
            return
        if result is BUSY:  # another run holds the lock: these parents again shortly
            self.retry = parents
            heapq.heappush(self.due, (self.clock() + LOCK_RETRY_SECONDS, -1))
            return
        scan, report = result
        if report is None:
            return
        self._settle(report, scan, partial=True)
        self._update_view(report, partial=True)

    def _settle(self, report, scan, partial):
        """After a round: when each parent may have its next one (a partial round's parents only: a full scan
        delays no exit's round), and a recheck for each left with zombies (the exits that would bring it back may
        all have been seen already: a leaker that stopped, a zombie a scan found before its age was known)."""
        settle = self.clock()
        policy = self.policy
        for parent in report["parents"]:
            ppid, outcome = parent["pid"], parent["outcome"]
            cleared = parent["zombies_confirmed"] > parent["zombies_remaining"]
            # A parent REAP is getting through but did not finish within its round (more zombies than one round
            # reaps, a leaker faster than its rounds) is taken up again soon, not left for RECHECK_SECONDS.
            getting_through = outcome == "persisting" and cleared
            if partial:
                settled = outcome in SETTLED and not getting_through
                self.not_before[ppid] = settle + (RECHECK_SECONDS if settled else ROUND_GAP_SECONDS)
            if cleared:
                every = parent["zombies_remaining"] == 0 and parent["zombies_confirmed"] == parent["zombies"]
                self._forget_gone(scan.zombies_by_parent.get(ppid, ()), every)
            rechecked = outcome in RECHECKED or getting_through
            if parent["zombies_remaining"] and self.connector is not None and rechecked:
                if outcome == "too_young":  # its oldest zombie is old enough by then
                    pause = max(policy.reap_min_age_seconds, policy.min_age_seconds, ROUND_GAP_SECONDS)
                else:
                    pause = ROUND_GAP_SECONDS
                self.rechecks[ppid] = settle + pause
                heapq.heappush(self.due, (settle + pause, ppid))

    def _forget_gone(self, zombies, all_gone):
        """The zombies of a round that are gone (all of them, or those one peek no longer finds): their death to
        reap is observed, and they are forgotten."""
        now = time.time()
        for zombie in zombies:
            if not all_gone and zombie_still_there(self.policy.proc_root, zombie) is not None:
                continue
            died = self.born.pop(zombie.key, None)
            if zombie.key in self.first_sight:
                self.first_sight.discard(zombie.key)
            elif died is not None:
                self.delays.observe(now - died)

    def _full_round(self, reason):
        self.lost = False
        policy = self.policy
        started = self.clock()

        def scan_all():
            scan = SCANNERS[policy.backend](policy.proc_root, want_ppids=policy.limit_subtree is not None)
            scan.seconds = self.clock() - started
            self.leaks.forget_gone(policy.proc_root)
            keys = set(z.key for zombies in scan.zombies_by_parent.values() for z in zombies)
            self.born = dict((k, v) for k, v in self.born.items() if k in keys)
            self.first_sight &= keys
            return scan

        result = self._round(scan_all, partial=False)
        if result is BUSY:
            self.lost = reason != "periodic"  # lost events still call for a full scan: at the next wakeup
            return
        scan, report = result
        self.counts["full_scans"] += 1
        self.not_before = dict((k, v) for k, v in self.not_before.items() if v > started)
        self.rechecks = {}  # this scan saw every parent: its report brings back those left with zombies
        if report is not None:
            self._settle(report, scan, partial=False)
            self._update_view(report, partial=False)

    def _round(self, make_scan, partial):
        """Under the run lock: ``make_scan()``, then one engine run on it. Returns BUSY when another run holds
        the lock, else (scan, report), report None when the round had nothing to do or failed (said)."""
        settings = self.settings
        try:
            lock = lock_exclusively(settings["lock"], "lock file") if settings["lock"] else None
        except LockBusy:
            return BUSY
        except ReaperError as exc:
            self.say("watch: round not run: %s" % exc)
            return None, None
        scan = None
        try:
            scan = make_scan()
            if partial and not scan.zombies_by_parent:
                return scan, None
            try:
                report = run(self.policy, mode=MODE_ACT, dry_run=settings["dry_run"], scan=scan, born=self.born,
                             partial=partial, rates=self.leaks.rates(self.clock()), progress=self.say)
            except NotRecorded as exc:
                report = exc.report
                self.say("watch: %s" % exc)
        except LockBusy:  # the state file's lock: a timer's run beside this one
            return BUSY
        except ReaperError as exc:
            self.say("watch: round failed: %s" % exc)
            return scan, None
        finally:
            if lock is not None:
                lock.close()
        self.counts["rounds"] += 1
        report["watch"] = dict(self.counts, partial=partial, exit_events=self.connector is not None)
        self._record(report)
        return scan, report

    # -- outputs ---------------------------------------------------------------------------------------------
    def _record(self, report):
        from ..cli import record  # pylint: disable=import-outside-toplevel
        if report["parents"]:
            self.say(format_summary(report))
        for failure in record(dict(self.settings, textfile=None), report):
            self.say("watch: could not record this round: %s" % failure)

    def _update_view(self, report, partial):
        self.view.update(report, partial)
        self.metrics_changed = True
        if self.metrics_written is None or self.clock() >= self.metrics_written + METRICS_MIN_GAP_SECONDS:
            self._write_metrics()

    def _write_metrics(self):
        path = self.settings["textfile"]
        self.metrics_changed = False
        self.metrics_written = self.clock()
        if not path:
            return
        text = self.view.metrics(self.counts, self.connector is not None, self.delays, time.time())
        if text is None:
            return
        try:
            write_textfile(path, text)
        except ReaperError as exc:
            self.say("watch: %s" % exc)


def _drain_pipe(fd):
    try:
        while os.read(fd, 512):
            pass
    except OSError:
        pass
