"""Watch mode acting: the time from each zombie's death to its reap, by leak rate, in a guest of its own.

Runs inside the KVM guest that bench/guest.sh boots (its kernel's initial PID namespace is the guest's, so
the daemon may act there). Per rate: a leaking parent (bench/exits.c ``leak``) whose children each write their
pid and death time (CLOCK_MONOTONIC) before they exit; the daemon (``zombie-reaper watch``, REAP only, limited
to that parent) is started on it; this driver polls /proc every 5 ms and takes, for each zombie that died after
the daemon was ready, the time from its death to the moment its /proc entry went. The measure does not use the
code under test. Prints one JSON line per rate, then "latency-done".

    python3 watch_latency.py EXITS_BINARY NODE_COMMAND_DIR [--rates 5,100,1000] [--seconds 30] [--min-age 5]
"""

import argparse
import json
import os
import signal
import struct
import subprocess
import sys
import time

RECORD = struct.Struct("=qq")
POLL_SECONDS = 0.005
TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def watch_command(python, module_utils, *options):
    """The node command's ``watch`` from a module_utils directory, as the role's wrapper runs it."""
    return [python, "-I", "-S", "-c", "import sys; sys.path.insert(0, %r); from zombie_reaper.cli import main; "
            "raise SystemExit(main())" % str(module_utils), "watch"] + list(options)


def histogram_quantile(path, share):
    """Prometheus' histogram_quantile() over the daemon's zombie_reaper_watch_reap_delay_seconds (linear within
    a bucket), and its count: the daemon's own account, to set beside the driver's."""
    buckets, count = [], 0
    with open(path) as handle:
        for line in handle:
            if line.startswith("zombie_reaper_watch_reap_delay_seconds_bucket{le="):
                bound = line.split('"')[1]
                buckets.append((float("inf") if bound == "+Inf" else float(bound), int(line.rsplit(" ", 1)[1])))
            elif line.startswith("zombie_reaper_watch_reap_delay_seconds_count "):
                count = int(line.rsplit(" ", 1)[1])
    if not count:
        return float("nan"), 0
    rank, lower, below = share * count, 0.0, 0
    for bound, cumulative in buckets:
        if cumulative >= rank:
            if bound == float("inf"):
                return lower, count
            return lower + (bound - lower) * (rank - below) / max(1, cumulative - below), count
        lower, below = bound, cumulative
    return float("nan"), count


def start_daemon(command_dir, limit, min_age, log):
    command = watch_command(sys.executable, command_dir, "--limit-subtree", str(limit), "--scope", "all",
                            "--ladder", "REAP:2", "--reap-min-age-seconds", str(min_age), "--confirm-seconds", "0",
                            "--rescan-seconds", "300", "--log", log, "--textfile", log + ".prom")
    daemon = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=open(log + ".journal", "wb"))
    deadline = time.monotonic() + 60
    while not (os.path.exists(log) and os.path.getsize(log)):  # its full scan at start is done
        if time.monotonic() > deadline or daemon.poll() is not None:
            raise SystemExit("the daemon did not start: %s" % open(log + ".journal").read()[-2000:])
        time.sleep(0.05)
    return daemon


def measure(exits, command_dir, rate, seconds, min_age):
    warmup = 3.0
    leaker = subprocess.Popen([exits, "leak", str(rate), str(warmup + seconds)], stdout=subprocess.PIPE)
    os.set_blocking(leaker.stdout.fileno(), False)
    log = "/tmp/watch-%g.log" % rate
    daemon = start_daemon(command_dir, leaker.pid, min_age, log)
    ready = time.monotonic_ns()
    cpu0, wall0 = cpu_seconds(daemon.pid), time.monotonic()
    outstanding, latencies, early, buffered = {}, [], 0, b""
    forking_ends = time.monotonic() + warmup + seconds
    end = forking_ends + min_age + 10  # past it, a zombie still there counts as left
    while time.monotonic() < end:
        try:
            buffered += os.read(leaker.stdout.fileno(), 1 << 16) or b""
        except BlockingIOError:
            pass
        usable = len(buffered) - len(buffered) % RECORD.size
        for offset in range(0, usable, RECORD.size):
            pid, died = RECORD.unpack_from(buffered, offset)
            if died < ready:
                early += 1
            else:
                outstanding[pid] = died
        buffered = buffered[usable:]
        now = time.monotonic_ns()
        for pid in [p for p in outstanding if not os.path.exists("/proc/%d" % p)]:
            latencies.append((now - outstanding.pop(pid)) / 1e9)
        if not outstanding and time.monotonic() > forking_ends + 0.5:
            break
        time.sleep(POLL_SECONDS)
    cpu = 100.0 * (cpu_seconds(daemon.pid) - cpu0) / (time.monotonic() - wall0)
    rss = rss_mib(daemon.pid)
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=60)
    left = sorted((died - ready) / 1e9 for died in outstanding.values())  # deaths, in s after ready
    leaker.kill()
    leaker.wait()
    with open(log + ".journal") as handle:
        status = handle.read().strip().splitlines()[-1]
    outcomes = {}  # each round's outcome for the leaking parent, counted: what to read when one is left
    reap = {}
    events_lost = 0
    with open(log) as handle:
        for line in handle:
            report = json.loads(line)
            events_lost = report["watch"]["events_lost"]
            for parent in report["parents"]:
                outcomes[parent["outcome"]] = outcomes.get(parent["outcome"], 0) + 1
                for sent in parent.get("signals") or ():
                    if sent.get("signal") == "REAP":  # why REAP got where it did: its rounds, signals in the way
                        for key in ("reaped", "rounds", "signals_passed_on"):
                            reap[key] = reap.get(key, 0) + (sent.get(key) or 0)
                        if sent.get("refused"):
                            reap.setdefault("refused", []).append(sent["refused"])
    daemon_p50, daemon_count = histogram_quantile(log + ".prom", 0.50)
    daemon_p99 = histogram_quantile(log + ".prom", 0.99)[0]
    return dict(rate=rate, seconds=seconds, min_age=min_age, measured=len(latencies), before_ready=early,
                daemon_counted=daemon_count, daemon_p50=daemon_p50, daemon_p99=daemon_p99,
                left=len(outstanding), left_died=left[:5], p50=percentile(latencies, 0.50), p99=percentile(latencies, 0.99),
                max=max(latencies) if latencies else float("nan"), daemon_cpu_percent=cpu, daemon_rss_mib=rss,
                outcomes=outcomes, reap=reap, events_lost=events_lost, status=status)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("exits")
    parser.add_argument("command_dir")
    parser.add_argument("--rates", default="5,100,1000")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--min-age", type=float, default=5.0)
    args = parser.parse_args()
    for rate in [float(r) for r in args.rates.split(",")]:
        print(json.dumps(measure(args.exits, args.command_dir, rate, args.seconds, args.min_age)), flush=True)
    print("latency-done", flush=True)


if __name__ == "__main__":
    main()
