# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What watch mode knows of the node between full scans: each parent's latest report entry (a round's own report
covers only the parents it looked at), and watch mode's metrics."""

WATCH_COUNTERS = (
    ("exits", "Process exits seen on the proc connector."),
    ("rounds", "Engine rounds run by the watch."),
    ("full_scans", "Full /proc scans run by the watch."),
    ("events_lost", "Times the event buffer overflowed (each followed by a full scan)."),
)


class View(object):
    def __init__(self):
        self.parents = {}  # pid -> the latest entry of a parent with zombies left
        self.last_report = None

    def update(self, report, partial):
        """A full scan's report replaces everything; a partial round's, the entries of its parents."""
        if not partial:
            self.parents = {}
        for parent in report["parents"]:
            if parent["zombies_remaining"]:
                self.parents[parent["pid"]] = dict(parent, zombies=parent["zombies_remaining"])
            else:
                self.parents.pop(parent["pid"], None)
        self.last_report = report

    def report(self):
        """The latest round's report with every parent's latest entry (None before the first round)."""
        if self.last_report is None:
            return None
        parents = sorted(self.parents.values(), key=lambda p: p["pid"])
        outcomes = {}
        for parent in parents:
            outcomes[parent["outcome"]] = outcomes.get(parent["outcome"], 0) + 1
        return dict(self.last_report, parents=parents, outcomes=outcomes, zombies=sum(p["zombies"] for p in parents),
                    parents_with_zombies=len(parents))

    def metrics(self, counts, exit_events, delays, now):
        """Watch mode's own series (a run's are its own file's: the two sit side by side in node_exporter's
        directory, no series in both), None before the first round."""
        report = self.report()
        if report is None:
            return None
        lines = ["# HELP zombie_reaper_watch_last_update_timestamp_seconds Unix time the watch last wrote this.\n"
                 "# TYPE zombie_reaper_watch_last_update_timestamp_seconds gauge\n"
                 "zombie_reaper_watch_last_update_timestamp_seconds %.3f\n" % now]
        for name, help_text in WATCH_COUNTERS:
            lines.append("# HELP zombie_reaper_watch_%s_total %s\n# TYPE zombie_reaper_watch_%s_total counter\n"
                         "zombie_reaper_watch_%s_total %d\n" % (name, help_text, name, name, counts[name]))
        lines.append("# HELP zombie_reaper_watch_exit_events 1 if exit events arrive, 0 when only full scans run.\n"
                     "# TYPE zombie_reaper_watch_exit_events gauge\nzombie_reaper_watch_exit_events %d\n"
                     % exit_events)
        lines.append("# HELP zombie_reaper_watch_zombies Zombies left by the watch's latest look at each parent.\n"
                     "# TYPE zombie_reaper_watch_zombies gauge\nzombie_reaper_watch_zombies %d\n"
                     % report["zombies"])
        lines.append(delays.exposition(
            "zombie_reaper_watch_reap_delay_seconds",
            "Seconds from a zombie's death (its exit event) to the round that saw it gone, since the watch started."))
        return "".join(lines)
