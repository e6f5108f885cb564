# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each parent's leak rate counted over the exit stream: the exits still defunct ``reap_min_age_seconds``
later, per minute, over the last hour. A scan can only count the zombies still there, which a watch that
reaps within seconds keeps to a handful: too few, too young, to tell a rate."""

import os
from collections import deque

from ..pressure import RATE_MIN_WINDOW_SECONDS

WINDOW_SECONDS = 3600.0
BUCKET_SECONDS = 60.0


class LeakRates(object):
    def __init__(self):
        self.parents = {}  # ppid -> (first leak counted, deque of [bucket start, leaks]); monotonic seconds

    def add(self, ppid, died):
        """One exit of ``ppid``'s that stayed a zombie; ``died`` in monotonic seconds."""
        entry = self.parents.get(ppid)
        if entry is None:
            entry = self.parents[ppid] = (died, deque())
        buckets = entry[1]
        start = died - died % BUCKET_SECONDS
        if buckets and buckets[-1][0] >= start:  # its minute, or an exit read late: the rate is the same
            buckets[-1][1] += 1
        else:
            buckets.append([start, 1])

    def rates(self, now):
        """{ppid: zombies per hour} over the last hour, for the parents followed for at least a minute."""
        rates = {}
        for ppid, (first, buckets) in list(self.parents.items()):
            while buckets and buckets[0][0] + BUCKET_SECONDS <= now - WINDOW_SECONDS:
                buckets.popleft()
            if not buckets:
                del self.parents[ppid]
                continue
            window = now - max(first, now - WINDOW_SECONDS)
            if window >= RATE_MIN_WINDOW_SECONDS:
                rates[ppid] = round(sum(count for _start, count in buckets) * 3600.0 / window, 3)
        return rates

    def forget_gone(self, proc_root):
        """Forget the parents that are gone (a rate outlives its zombies: those the watch reaped in seconds)."""
        for ppid in [p for p in self.parents if not os.path.exists(os.path.join(proc_root, str(p)))]:
            del self.parents[ppid]
