"""The engine's partial rounds (watch mode's): a scan of a few parents only, death times from exit events."""

import json
import time

from zombie_reaper.engine import run
from zombie_reaper.watch.partial import children_of, scan_parents

from conftest import parent_entry, policy


def test_a_scan_of_one_parent_finds_its_zombies_and_no_one_elses(spawn):
    one, other = spawn("--zombies", 3), spawn("--zombies", 2)
    scan = scan_parents("/proc", [one.pid])
    assert sorted(scan.zombies_by_parent) == [one.pid]
    assert sorted(z.pid for z in scan.zombies_by_parent[one.pid]) == one.zombies()
    assert scan.processes is None
    assert set(other.zombies()) <= set(children_of("/proc", other.pid))
    # With a subtree limit, each parent's ancestry (all the limit needs), up to PID 1.
    scan = scan_parents("/proc", [one.pid], want_ppids=True)
    assert scan.ppid_of[one.pid] == one.sandbox_pid and scan.ppid_of[1] == 0


def test_a_partial_round_keeps_the_other_parents_first_seen_times_and_takes_death_times(spawn, tmp_path):
    one, other = spawn("--zombies", 3), spawn("--zombies", 2)
    state_file = tmp_path / "state.json"
    ladder = {"ladder": "SIGCHLD:0.2", "state_file": str(state_file), "scope": "all"}  # sends nothing here
    run(policy(limit_subtree=other.sandbox_pid, **ladder))  # a full run: the other parent's zombies first seen
    seen_other = json.loads(state_file.read_text())["first_seen"]
    assert len(seen_other) == 2

    died = time.time() - 100
    zombies = scan_parents("/proc", [one.pid]).zombies_by_parent[one.pid]
    born = dict((z.key, died) for z in zombies)
    report = run(policy(limit_subtree=one.sandbox_pid, min_age_seconds=50, **ladder),
                 scan=scan_parents("/proc", [one.pid], want_ppids=True), born=born, partial=True)
    entry = parent_entry(report, one.pid)
    # Died 100 s ago by the events: old enough for min_age_seconds 50 at first sight, so the ladder was
    # reached (its one rung skipped: the tenant does not catch SIGCHLD; nothing is sent).
    assert entry["outcome"] == "no_rung_applies", entry
    assert entry["oldest_zombie_seen_seconds"] >= 99
    first_seen = json.loads(state_file.read_text())["first_seen"]
    assert all(first_seen[key] == value for key, value in seen_other.items())  # not pruned by a partial round
    assert all(first_seen[key] == died for key in born)

    # Without death times the same zombies are too young for that age (a scan only knows when it saw them).
    fresh = spawn("--zombies", 2)
    report = run(policy(limit_subtree=fresh.sandbox_pid, min_age_seconds=50, **ladder),
                 scan=scan_parents("/proc", [fresh.pid], want_ppids=True), partial=True)
    assert parent_entry(report, fresh.pid)["outcome"] == "too_young"
