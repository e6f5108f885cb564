"""Benchmark watch mode: the daemon's CPU and memory by process-exit rate, with and without idle zombies.

The daemon (the node command's ``watch``) runs in this machine's initial PID namespace, as the proc connector
needs, with --dry-run and limited to an idle process of the benchmark's own: it reads and peeks every exit on
the machine but decides on none. The exits come from bench/exits.c, forking and waiting at a fixed rate (the
common case: a parent that reaps). The idle table is bench/run.py's synthetic one (bench/fleet.c: idle
processes and zombies under a few parents, in a private PID namespace). Nothing is signalled or traced. Its
section of docs/benchmarks.md is replaced (or added), as ``make bench`` runs it after bench/run.py.

    python bench/watch.py [--idle 100000] [--seconds 20] [--soak 60] [--out FILE]
"""

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import MODULE_UTILS, NODE_PYTHON, ROOT, build, fleet, pid_max_at_least, replace_section  # noqa: E402  pylint: disable=wrong-import-position
from watch_latency import cpu_seconds, rss_mib, watch_command  # noqa: E402  pylint: disable=wrong-import-position

SECTION = "## Watch mode"


class Daemon(object):
    def __init__(self, limit, journal):
        command = watch_command(NODE_PYTHON, MODULE_UTILS, "--dry-run", "--limit-subtree", str(limit),
                                "--confirm-seconds", "0", "--rescan-seconds", "86400", "--log", journal + ".log")
        self.journal = journal
        log = Path(journal + ".log")
        if log.exists():
            log.unlink()
        with open(journal, "wb") as handle:
            self.popen = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=handle)
        deadline = time.monotonic() + 300
        while not (log.exists() and log.read_text().strip()):  # the full scan at start is done
            if time.monotonic() > deadline or self.popen.poll() is not None:
                raise SystemExit("the daemon did not start: %s" % Path(journal).read_text()[-2000:])
            time.sleep(0.1)
        self.start_scan_seconds = json.loads(log.read_text().splitlines()[0])["scan_seconds"]

    def stop(self):
        self.popen.send_signal(signal.SIGTERM)
        self.popen.wait(timeout=60)
        return Path(self.journal).read_text().strip().splitlines()[-1]


def measure(daemon, exits, rate, seconds):
    generator = None
    if rate:
        generator = subprocess.Popen([exits, "wait", str(rate), str(seconds + 2)], stdout=subprocess.PIPE)
        time.sleep(1)
    cpu0, wall0 = cpu_seconds(daemon.popen.pid), time.monotonic()
    time.sleep(seconds)
    cpu1, wall1 = cpu_seconds(daemon.popen.pid), time.monotonic()
    made = int(generator.communicate()[0]) if generator else 0
    return 100.0 * (cpu1 - cpu0) / (wall1 - wall0), rss_mib(daemon.popen.pid), made


def tracked(exits, journal, zombies, rate):
    """The daemon's memory once it follows ``zombies`` zombies born while it listens: a leaker of the benchmark's
    own makes them at ``rate``; the daemon (dry run, limited to it) peeks at each and keeps its death time."""
    with pid_max_at_least(int(zombies * 1.3) + 4096):
        leaker = subprocess.Popen([exits, "leak", str(rate), str(zombies / float(rate))], stdout=subprocess.DEVNULL)
        try:
            daemon = Daemon(leaker.pid, journal)
            cpu0, wall0 = cpu_seconds(daemon.popen.pid), time.monotonic()
            time.sleep(zombies / float(rate) + 10)  # every zombie made and older than reap_min_age_seconds
            cpu = 100.0 * (cpu_seconds(daemon.popen.pid) - cpu0) / (time.monotonic() - wall0)
            rss = rss_mib(daemon.popen.pid)
            made = len(Path("/proc/%d/task/%d/children" % (leaker.pid, leaker.pid)).read_text().split())
            status = daemon.stop()
        finally:
            leaker.terminate()  # it reaps its zombies, then exits: their PIDs are free before pid_max is lowered
            leaker.wait()
    return made, cpu, rss, status


def latency(seconds):
    """Death to reap, acting: bench/watch_latency.py in the guest bench/guest.sh boots (never on this machine)."""
    rates = "5,100,1000"
    out = subprocess.run([str(ROOT / "bench" / "guest.sh"), "--rates", rates, "--seconds", str(seconds),
                          "--min-age", "5"], check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    lines = ["", "### Death to reap, acting", "",
             "`bench/guest.sh --rates %s --seconds %g --min-age 5`: in an x86_64 guest under software emulation "
             "(this machine's /dev/kvm is PVM, which boots no stock kernel), a parent leaking at each rate; the "
             "daemon acts (REAP only, limited to it, `reap_min_age_seconds` 5, the default); the driver takes each "
             "zombie's death time from the zombie itself and polls /proc every 5 ms for its end. Emulation slows "
             "the daemon, so these times are upper bounds. Goal: p99 <= reap_min_age_seconds + 1 s = 6 s. Beside "
             "them, the daemon's own account (its metric `zombie_reaper_watch_reap_delay_seconds`, the quantiles as "
             "Prometheus' histogram_quantile() reads its buckets): what a real node reports." % (rates, seconds), "",
             "| leaks/s | zombies timed | p50 (s) | p99 (s) | max (s) | left at the end | events lost "
             "| daemon: zombies counted | daemon: p50 (s) | daemon: p99 (s) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append("| %g | %d | %.2f | %.2f | %.2f | %d | %d | %d | %.2f | %.2f |" % (
            row["rate"], row["measured"], row["p50"], row["p99"], row["max"], row["left"], row["events_lost"],
            row["daemon_counted"], row["daemon_p50"], row["daemon_p99"]))
    return lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=int, default=100000, help="idle zombies in the second half")
    parser.add_argument("--sleepers", type=int, default=10000, help="idle processes beside them")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per rate")
    parser.add_argument("--soak", type=float, default=60.0, help="seconds at 1,000 exits/s, counting lost events")
    parser.add_argument("--tracked", type=int, default=100000, help="zombies born while the daemon listens")
    parser.add_argument("--latency-seconds", type=float, default=30.0, help="seconds per leak rate in the guest")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    idle = subprocess.Popen(["sleep", "86400"])
    journal = "/tmp/fleetops-bench-watch.journal"
    lines = [SECTION + ": the daemon's cost by exit rate", "",
             "`python bench/watch.py --idle %d --sleepers %d --seconds %g --soak %g` on %s, %d cores, kernel %s. "
             "The daemon (`zombie-reaper watch --dry-run`, limited to an idle process) reads every exit on the machine and "
             "peeks at each `reap_min_age_seconds` later; the exits come from a C parent (bench/exits.c) that forks and waits at "
             "the given rate. CPU is the daemon's user+system time over %g s, in the same run for every row." % (
                 args.idle, args.sleepers, args.seconds, args.soak, os.uname().nodename, os.cpu_count(),
                 os.uname().release, args.seconds), "",
             "| idle zombies on the node | exits/s asked | exits/s made | daemon CPU (% of one core) | RSS (MiB) |",
             "|---|---|---|---|---|"]
    scans = []
    made = 0
    status = ""
    with tempfile.TemporaryDirectory() as scratch:
        binaries = build(Path(scratch))
        try:
            for count in (0, args.idle):
                with (fleet(binaries, args.sleepers, count, 4) if count else contextlib.nullcontext()):
                    daemon = Daemon(idle.pid, journal)
                    scans.append((count, daemon.start_scan_seconds))
                    for rate in (0, 100, 1000):
                        cpu, rss, made = measure(daemon, binaries["exits"], rate, args.seconds)
                        lines.append("| %d | %d | %d | %.2f | %.1f |"
                                     % (count, rate, made / (args.seconds + 2), cpu, rss))
                    if count:
                        _cpu, _rss, made = measure(daemon, binaries["exits"], 1000, args.soak)
                    status = daemon.stop()
            born, tracked_cpu, tracked_rss, tracked_status = tracked(binaries["exits"], journal, args.tracked, 2000)
        finally:
            idle.kill()
    lines += ["", "Followed: %d zombies born at 2,000/s while the daemon listened (dry run, limited to their parent, so "
              "it keeps each one's death time and decides on them every minute): RSS %.1f MiB at the end, CPU %.2f%% "
              "of one core while they were made; `%s`." % (born, tracked_rss, tracked_cpu, tracked_status)]
    lines += latency(args.latency_seconds)
    lines += ["", "Soak at 1,000 exits/s asked for %g s with %d idle zombies: the generator made %d exits (%d/s); "
              "the daemon ended with: `%s` (its exits count every exit on the machine, the generator's among "
              "them)." % (args.soak, args.idle, made, made / (args.soak + 2), status), "",
              "The full scan at start (and every `rescan_seconds`, 300 by default): %s; at the default period "
              "that is %.3f%% of one core for the largest table." % (
                  ", ".join("%.3f s with %d idle zombies" % (seconds, count) for count, seconds in scans),
                  100.0 * scans[-1][1] / 300), ""]
    text = "\n".join(lines) + "\n"
    out = Path(args.out)
    out.write_text(replace_section(out.read_text() if out.exists() else "# Benchmarks\n", SECTION, text))
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
