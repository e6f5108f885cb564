"""``zombie-reaper watch`` on real processes the test made, with the kernel's exit events.

The proc connector answers only in the initial user and PID namespaces, and there the daemon's lane is only
as good as its own limit_subtree: so on this machine it runs with --dry-run only (it decides, sends nothing),
and the tests that let it act run in the emulated aarch64 guest, whose kernel is its own (tests/aarch64/run.sh
sets FLEETOPS_GUEST=1)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from zombie_reaper import procfs
from zombie_reaper.watch.connector import ConnectorUnavailable, ProcConnector

from conftest import HELPERS, NODE_COMMAND, alive, children_of, kill_groups, many, patience, wait_until, zombie_children

IN_GUEST = os.environ.get("FLEETOPS_GUEST") == "1"
acting = pytest.mark.skipif(not IN_GUEST, reason="acts in the initial PID namespace: runs in the qemu guest "
                            "(tests/aarch64/run.sh)")
MIN_AGE = 1.0


def _connector_or_skip():
    connector = ProcConnector()
    try:
        connector.open()
    except ConnectorUnavailable as exc:
        pytest.skip("no proc connector here: %s" % exc)
    connector.close()


class Daemon(object):
    """The node command's watch mode on the test's own subtree; its log and journal lines kept in files."""

    def __init__(self, tmp_path, limit, *options, config=None, wait=True):
        self.log = tmp_path / ("watch-%d.log" % limit)
        self.journal = tmp_path / ("watch-%d.journal" % limit)
        # Host processes in scope, but no rung that ends one: what REAP leaves, SIGCHLD alone may try.
        command = NODE_COMMAND + ["watch", "--limit-subtree", str(limit), "--scope", "all", "--log", str(self.log),
                                  "--ladder", "SIGCHLD:1",
                                  "--reap-min-age-seconds", str(MIN_AGE), "--rescan-seconds", "30"] + list(options)
        if config:
            command += ["--config", str(config)]
        with open(self.journal, "wb") as journal:
            self.popen = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=journal)
        if wait:
            assert wait_until(self.reports, 30), self.journal_text()  # the full scan at start

    def reports(self):
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def entries(self, pid):
        return [(r, p) for r in self.reports() for p in r["parents"] if p["pid"] == pid]

    def journal_text(self):
        return self.journal.read_text()

    def stop(self):
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout=patience(30))

    def kill(self):
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


@pytest.fixture
def daemon(tmp_path):
    _connector_or_skip()
    started = []

    def _start(limit, *options, config=None, wait=True):
        started.append(Daemon(tmp_path, limit, *options, config=config, wait=wait))
        return started[-1]

    yield _start
    for each in started:
        each.kill()


def read_series(path):
    """{series: value} of a metrics file ({} before it is written)."""
    if not path.exists():
        return {}
    return dict(line.rsplit(" ", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


def tracer_of(pid):
    status = procfs.read_status("/proc", pid) or {}
    return status.get("TracerPid", 0)


def test_dry_run_decides_on_each_new_zombie_soon_after_it_dies_and_sends_nothing(spawn, daemon, tmp_path):
    tenant = spawn("--zombies", 1, "--every", 0.2)
    config = tmp_path / "reaper.ini"
    config.write_text("[reaper]\nmin_zombies = 1\n")
    metrics = tmp_path / "watch.prom"
    watch = daemon(tenant.pid, "--dry-run", "--textfile", str(metrics), config=config)
    # The decision on exits, not on the next full scan (30 s away): a round of a scan of this parent alone.
    assert wait_until(lambda: any(r["watch"]["partial"] for r, _p in watch.entries(tenant.pid)), 10), \
        watch.journal_text()
    report, entry = [(r, p) for r, p in watch.entries(tenant.pid) if r["watch"]["partial"]][0]
    assert entry["outcome"] == "would_reap" and report["mode"] == "dry_run"
    assert report["pids"]["processes"] is None  # it counted no process table
    assert report["watch"]["exit_events"] is True
    assert len(tenant.zombies()) >= 5 and tenant.alive() and tracer_of(tenant.pid) == 0
    # Watch mode's own series only (a run's are in its own file): the zombies every parent's latest entry
    # leaves (a dry run leaves them all), rewritten after a round at most every 15 s.
    assert wait_until(lambda: int(read_series(metrics).get("zombie_reaper_watch_rounds_total", 0)) >= 2, 30)
    series = read_series(metrics)
    assert int(series["zombie_reaper_watch_zombies"]) >= entry["zombies"] >= 1
    assert series["zombie_reaper_watch_exit_events"] == "1" and int(series["zombie_reaper_watch_exits_total"]) >= 1
    assert abs(float(series["zombie_reaper_watch_last_update_timestamp_seconds"]) - time.time()) < 60
    assert series["zombie_reaper_watch_reap_delay_seconds_count"] == "0"  # a dry run reaps nothing
    assert not [name for name in series if not name.startswith("zombie_reaper_watch_")]

    # SIGHUP reads the options again; options it cannot understand are refused and the old ones kept.
    watch.popen.send_signal(signal.SIGHUP)
    assert wait_until(lambda: "options read again" in watch.journal_text(), 10), watch.journal_text()
    config.write_text("[reaper]\nmin_zombies = none\n")
    watch.popen.send_signal(signal.SIGHUP)
    assert wait_until(lambda: "reload refused" in watch.journal_text(), 10), watch.journal_text()
    assert "min_zombies" in watch.journal_text() and watch.popen.poll() is None

    assert watch.stop() == 0
    assert "watch: stopped (exit events;" in watch.journal_text()


def test_a_tenant_reaping_its_own_children_never_reaches_a_round(daemon):
    waiter = subprocess.Popen([sys.executable, "-c", (
        "import os, sys, time\n"
        "sys.stdin.readline()\n"
        "reaped = 0\n"
        "for _ in range(%d):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        os._exit(0)\n"
        "    time.sleep(0.1)\n"
        "    reaped += os.waitpid(pid, 0)[0] == pid\n"
        "print(reaped)\n" % 40)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
    watch = daemon(waiter.pid, "--dry-run")
    out, _err = waiter.communicate(b"go\n", timeout=patience(60))
    assert out.decode().strip() == "40"  # every child was its own to wait for
    time.sleep(MIN_AGE * 2)
    assert not watch.entries(waiter.pid)
    assert watch.stop() == 0


def test_without_the_initial_pid_namespace_it_says_so_once_and_scans_alone(spawn, tmp_path):
    tenant = spawn("--zombies", 2)
    log = tmp_path / "watch.log"
    command = ["unshare", "--pid", "--fork", "--mount-proc"] + NODE_COMMAND + [
        "watch", "--dry-run", "--scope", "all", "--log", str(log), "--rescan-seconds", "10", "--confirm-seconds", "0"]
    # In its own PID namespace it sees no process of ours: this is about what it says and that it keeps going.
    popen = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        assert wait_until(lambda: log.exists() and log.read_text().strip(), 30)
        assert popen.poll() is None
        report = json.loads(log.read_text().splitlines()[0])
        assert report["watch"]["exit_events"] is False and report["watch"]["partial"] is False
    finally:
        os.killpg(popen.pid, signal.SIGTERM)
        _out, err = popen.communicate(timeout=patience(30))
    assert err.decode().count("no exit events (") == 1
    assert "full scan alone, every 10s" in err.decode()
    assert tenant.zombies()


@acting
def test_a_parent_leaking_every_200ms_is_reaped_continuously_each_zombie_within_the_bound(spawn, daemon, tmp_path):
    tenant = spawn("--zombies", 1, "--every", 0.2)
    metrics = tmp_path / "watch.prom"
    watch = daemon(tenant.pid, "--textfile", str(metrics))
    born = {}
    lifetimes = []
    started = time.monotonic()
    deadline = started + max(patience(6), 75)  # past a minute: the leak rate is told from then on
    while time.monotonic() < deadline:
        now = time.monotonic()
        current = set(zombie_children(tenant.pid))
        for pid in current - set(born):
            born[pid] = now
        for pid in [p for p in born if p not in current]:
            lifetimes.append(now - born.pop(pid))
        time.sleep(0.05)
    assert tenant.alive()
    # Rounds come every half second or so and this instant may fall in one: it is left between them.
    assert wait_until(lambda: tracer_of(tenant.pid) == 0, 3.0)
    assert len(lifetimes) >= 10, (lifetimes, watch.journal_text())
    # Seen as a zombie at most reap_min_age_seconds, plus a round and the sampling's own step.
    assert max(lifetimes) <= MIN_AGE + patience(1.0), sorted(lifetimes)[-5:]
    reaped = [p for r, p in watch.entries(tenant.pid) if r["watch"]["partial"] and p["action"] == "reaped_in_place"]
    assert reaped and all(p["signals"][0]["signal"] == "REAP" for p in reaped)
    # Its leak rate, from the exit stream: each round sees only a few seconds' zombies, too few to tell one.
    seen_per_hour = (len(lifetimes) + len(born)) * 3600.0 / (time.monotonic() - started)
    rated = [p["leak_rate_per_hour"] for p in reaped if p["leak_rate_per_hour"] is not None]
    assert rated and abs(rated[-1] - seen_per_hour) <= 0.3 * seen_per_hour, (rated[-5:], seen_per_hour)
    # Its subtree vanishing is nothing to the daemon.
    os.killpg(tenant.popen.pid, signal.SIGKILL)
    tenant.popen.wait()
    time.sleep(MIN_AGE * 2)
    assert watch.popen.poll() is None
    assert watch.stop() == 0
    # Its own account of death to reap (written as it stopped): every zombie the test saw go, each timed from
    # its exit event, within the same bound on average.
    series = read_series(metrics)
    delays = int(series["zombie_reaper_watch_reap_delay_seconds_count"])
    assert delays >= 0.9 * len(lifetimes), (delays, len(lifetimes))
    assert float(series["zombie_reaper_watch_reap_delay_seconds_sum"]) / delays <= MIN_AGE + patience(1.0)
    assert series['zombie_reaper_watch_reap_delay_seconds_bucket{le="+Inf"}'] == str(delays)


# A parent that makes zombies only when told: a line "N SECONDS" makes N of them, SECONDS apart.
LEAK_ON_REQUEST = """
import os, sys, time
for line in sys.stdin:
    count, gap = line.split()
    for _index in range(int(count)):
        if os.fork() == 0:
            os._exit(0)
        time.sleep(float(gap))
    print("made", flush=True)
"""


@acting
def test_zombies_no_later_exit_brings_back_are_reaped_within_the_bound_too(daemon):
    parent = subprocess.Popen([sys.executable, "-c", LEAK_ON_REQUEST], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        def leak(count, gap):
            parent.stdin.write(b"%d %g\n" % (count, gap))
            parent.stdin.flush()
            assert parent.stdout.readline() == b"made\n"

        # One from before the daemon: the full scan at start finds it with no known age, so too young then.
        leak(1, 0)
        watch = daemon(parent.pid, "--rescan-seconds", "600")  # no periodic scan to fall back on
        assert wait_until(lambda: not zombie_children(parent.pid), MIN_AGE + 3), watch.journal_text()
        # Then the parent's last two, half a second apart: the round for the first sees the second still young,
        # and no exit comes after it.
        leak(2, 0.5)
        assert wait_until(lambda: not zombie_children(parent.pid), MIN_AGE + 3), watch.journal_text()

        # Each of the three in one report or another (the last is written just after its REAP ends).
        def reaped():
            return sum(p["zombies_reaped_in_place"] for r, p in watch.entries(parent.pid))
        assert wait_until(lambda: reaped() == 3, 5), (reaped(), watch.journal_text())
        assert watch.stop() == 0
    finally:
        parent.kill()
        parent.wait()


@acting
def test_a_burst_overflowing_the_buffer_brings_a_full_scan_and_no_zombie_is_missed(daemon):
    count = many(4000, minimum=400)
    # A launcher whose pid the daemon is limited to, turned into the burst's parent once the daemon listens.
    launcher = subprocess.Popen([sys.executable, str(HELPERS / "sandbox.py"), sys.executable, "-c",
                                 "import os, sys; sys.stdin.readline(); os.execv(sys.executable, [sys.executable, "
                                 "%r, '--zombies', '%d'])" % (str(HELPERS / "zombie_parent.py"), count)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert wait_until(lambda: children_of(launcher.pid), 10)
        (parent,) = children_of(launcher.pid)
        watch = daemon(parent, "--receive-buffer", "4096", "--confirm-seconds", "0")
        launcher.stdin.write(b"go\n")
        launcher.stdin.flush()
        assert launcher.stdout.readline().startswith(b"ready"), watch.journal_text()  # all its zombies are there
        # Its exits (and forks) overflow a 4 KiB buffer at once: a full scan follows and finds every zombie.
        assert wait_until(lambda: not zombie_children(parent), 60), watch.journal_text()
        lost = [r for r in watch.reports() if r["watch"]["events_lost"]]
        assert lost and any(not r["watch"]["partial"] for r in lost)

        # The last round's report is written just after its REAP ends.
        def cleared():
            return sum(p["zombies_reaped_in_place"] for r, p in watch.entries(parent))
        assert wait_until(lambda: cleared() >= count, 5), (cleared(), watch.journal_text())
        assert alive(parent) and tracer_of(parent) == 0
        assert watch.stop() == 0
    finally:
        kill_groups([launcher])


@acting
def test_a_parent_one_round_cannot_clear_is_taken_up_again_until_clear_with_no_exit_or_scan(spawn, daemon):
    crowd = spawn("--zombies", many(6000, minimum=600))
    count = len(crowd.zombies())
    # REAP gets a fifth of a second a round: too little for the crowd here. Its zombies died before the daemon,
    # so no exit brings the parent back, and the next full scan is a day away: only the daemon's own rechecks do.
    watch = daemon(crowd.pid, "--ladder", "REAP:0.2,SIGCHLD:1", "--rescan-seconds", "86400")
    assert wait_until(lambda: not zombie_children(crowd.pid), 120), watch.journal_text()
    assert crowd.alive() and watch.popen.poll() is None
    assert [r["watch"]["partial"] for r in watch.reports()].count(False) == 1  # the scan at start only
    acted = [p for _r, p in watch.entries(crowd.pid) if p["signals"]]
    assert acted and all(s["signal"] == "REAP" for p in acted for s in p["signals"])
    assert sum(p["zombies_reaped_in_place"] for p in acted) == count
    assert watch.stop() == 0


@acting
def test_sigterm_mid_reap_lets_the_round_finish_and_leaves_the_parent_untraced(spawn, daemon):
    crowd = spawn("--zombies", many(6000, minimum=600))
    watch = daemon(crowd.pid, wait=False)  # its start: a full scan that reaps the crowd in place
    traced = wait_until(lambda: tracer_of(crowd.pid) != 0, 30)
    if traced:
        watch.popen.send_signal(signal.SIGTERM)
    assert watch.popen.wait(timeout=patience(60)) == 0
    assert traced, "the REAP of the crowd was never seen under way"
    assert crowd.alive() and tracer_of(crowd.pid) == 0, watch.journal_text()
    assert procfs.read_stat("/proc", crowd.pid)["state"] not in ("t", "T")
    # The round it was in went to its end: reported, the parent released, then the daemon left.
    assert [p for r, p in watch.entries(crowd.pid) if p["zombies_reaped_in_place"]], watch.journal_text()
    assert "watch: stopped" in watch.journal_text()
