# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Death to reap, per zombie: from its exit event to the round that saw it gone, as a Prometheus histogram.
Only zombies whose death the event gave are counted: a zombie a scan found first has no known death."""

# Seconds; reap_min_age_seconds (5 by default) plus a round is the expected delay, a timer period the old one.
# Finer around 5-6 s, where a node at the default should be.
BUCKETS = (1.0, 2.0, 3.0, 5.0, 5.5, 6.0, 7.0, 8.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0)


class ReapDelays(object):
    def __init__(self):
        self.counts = [0] * len(BUCKETS)  # per bucket, not cumulative
        self.beyond = 0
        self.total = 0.0
        self.observed = 0

    def observe(self, seconds):
        seconds = max(0.0, seconds)
        self.observed += 1
        self.total += seconds
        for index, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.counts[index] += 1
                return
        self.beyond += 1

    def exposition(self, name, help_text):
        lines = ["# HELP %s %s" % (name, help_text), "# TYPE %s histogram" % name]
        running = 0
        for bound, count in zip(BUCKETS, self.counts):
            running += count
            lines.append('%s_bucket{le="%g"} %d' % (name, bound, running))
        lines.append('%s_bucket{le="+Inf"} %d' % (name, running + self.beyond))
        lines.append("%s_sum %.3f" % (name, self.total))
        lines.append("%s_count %d" % (name, self.observed))
        return "\n".join(lines) + "\n"
