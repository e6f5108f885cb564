"""The REAP crash battery: SIGKILL the node command at a random moment of a REAP round and check the parent.

A trial: a C parent (reap_parent.c, mode `sleep`: one long nanosleep) holds zombies below a reaping
sandbox; the node command runs REAP on it alone (`--ladder REAP:2 --limit-subtree <parent>`); once the
parent is traced, the node command is SIGKILLed after a uniformly random delay within one round. The trial
passes when, after that, the parent is alive (same process), no longer traced, with every thread's
blocked, ignored and caught signals as before, still inside its interrupted sleep (not woken early, no
EINTR) and its own parent saw no stop, continue or exit.

Both parent kinds the engine used to treat differently run: SIGTRAP as usual and SIGTRAP blocked.

    python3 tests/helpers/crash_battery.py --trials 1000 [--module-utils DIR] [--binary reap_parent]

prints one JSON object per parent kind. Tests import run_battery() for a smaller count."""

import argparse
import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

HELPERS = Path(__file__).resolve().parent
ROOT = HELPERS.parent.parent
ROUND_SECONDS = 0.2  # ladder.REAP_ROUND_SECONDS: kills are spread over one round
SLEEP_CALLS = {"x86_64": {35, 230, 219}, "aarch64": {101, 115, 128}}  # nanosleep, clock_nanosleep, restart_syscall


def node_command(module_utils):
    return [sys.executable, "-I", "-S", "-c", "import sys; sys.path.insert(0, %r); "
            "from zombie_reaper.cli import main; raise SystemExit(main())" % str(module_utils)]


def _status(pid):
    fields = {}
    try:
        with open("/proc/%d/status" % pid) as handle:
            for line in handle:
                key, _sep, value = line.partition(":")
                fields[key] = value.strip()
    except OSError:
        return None
    return fields


def _signal_state(pid):
    state = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    for tid in tids:
        info = _status(int(tid)) or {}
        state[tid] = tuple(info.get(key) for key in ("SigBlk", "SigIgn", "SigCgt"))
    return state


def _starttime(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _syscall(pid):
    try:
        with open("/proc/%d/syscall" % pid) as handle:
            word = handle.read().split()[0]
    except (OSError, IndexError):
        return None
    return int(word) if word.lstrip("-").isdigit() else word


def _zombies(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as handle:
            children = [int(c) for c in handle.read().split()]
    except OSError:
        return 0
    return sum(1 for child in children if _starttime(child) is None)


class Parent(object):
    """reap_parent.c in one long nanosleep, below the sandbox; ``pid`` is the zombies' parent."""

    def __init__(self, binary, zombies, sigtrap):
        command = [sys.executable, str(HELPERS / "sandbox.py"), str(binary), "sleep", str(zombies), "86400"]
        self.popen = subprocess.Popen(command, stdout=subprocess.PIPE, start_new_session=True,
                                      env=dict(os.environ, REAP_PARENT_SIGTRAP=sigtrap))
        self.output = b""
        line = self._read_until(b"\n", 120)
        words = line.split()
        if words[:1] != [b"ready"]:
            raise RuntimeError("reap_parent did not start: %r" % line)
        self.pid = int(words[1])
        self.starttime = _starttime(self.pid)
        deadline = time.monotonic() + 10
        while _syscall(self.pid) not in SLEEP_CALLS[os.uname().machine] and time.monotonic() < deadline:
            time.sleep(0.01)
        self.signals = _signal_state(self.pid)

    def _read_until(self, end, timeout):
        deadline = time.monotonic() + timeout
        while end not in self.output and time.monotonic() < deadline:
            ready, _unused, _ignored = select.select([self.popen.stdout], [], [], 0.1)
            if ready:
                data = os.read(self.popen.stdout.fileno(), 4096)
                if not data:
                    break
                self.output += data
        line, _sep, self.output = self.output.partition(end)
        return line

    def new_output(self):
        """What it printed since start-up: "slept ..." (sleep over or cut short) or a monitor event."""
        while select.select([self.popen.stdout], [], [], 0)[0]:
            data = os.read(self.popen.stdout.fileno(), 4096)
            if not data:
                break
            self.output += data
        return self.output.decode(errors="replace")

    def stop(self):
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=10)


def _check(parent):
    """Empty when the parent is as it was, else what is wrong."""
    deadline = time.monotonic() + 2
    while (_status(parent.pid) or {}).get("TracerPid", "0") != "0" and time.monotonic() < deadline:
        time.sleep(0.005)  # the kernel detaches once the killed reaper is gone
    problems = []
    if _starttime(parent.pid) != parent.starttime:
        return ["died"]
    if (_status(parent.pid) or {}).get("TracerPid", "0") != "0":
        problems.append("still traced")
    if _signal_state(parent.pid) != parent.signals:
        problems.append("signal mask changed")
    if _starttime(parent.pid) != parent.starttime:
        return ["died"]
    deadline = time.monotonic() + 1
    while _syscall(parent.pid) not in SLEEP_CALLS[os.uname().machine] and time.monotonic() < deadline:
        time.sleep(0.005)  # back in its sleep once the resume code has run
    if _syscall(parent.pid) not in SLEEP_CALLS[os.uname().machine]:
        problems.append("not in its sleep (syscall %s)" % _syscall(parent.pid))
    printed = parent.new_output().split()
    if printed:  # "slept ms=.. rc=..": woken early; "monitor-event exited status=..": died
        problems.append("printed %s" % " ".join(word.split("=")[0] for word in printed[:3]))
    return problems


def one_trial(parent, command, rng, window):
    """Returns (killed inside a round, problems, seconds the parent was traced when left alone)."""
    reaper = subprocess.Popen(command + ["--reap", "--ladder", "REAP:2", "--scope", "all", "--limit-subtree",
                                         str(parent.pid), "--confirm-seconds", "0", "--reap-min-age-seconds", "0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while (_status(parent.pid) or {}).get("TracerPid", "0") == "0" and reaper.poll() is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.0002)
    time.sleep(rng.uniform(0, window))
    inside = (_status(parent.pid) or {}).get("TracerPid", "0") != "0"
    reaper.kill()
    reaper.wait()
    return inside, _check(parent)


def seconds_per_zombie(parent, command):
    """How long REAP takes per zombie here, from one run left to finish (its zombies are gone after)."""
    result = subprocess.run(command + ["--reap", "--ladder", "REAP:2", "--scope", "all", "--limit-subtree",
                                       str(parent.pid), "--confirm-seconds", "0", "--reap-min-age-seconds", "0"],
                            capture_output=True, text=True, timeout=300, check=False)
    found = re.search(r"(\d+) reaped in place in \d+ round\(s\), stopped ([0-9.]+) ms", result.stdout + result.stderr)
    if not found:
        raise RuntimeError("REAP did not work here: %s %s" % (result.stdout[-500:], result.stderr[-500:]))
    return float(found.group(2)) / 1000 / max(int(found.group(1)), 1)


def run_battery(trials, sigtrap, binary, module_utils, zombies=2500, seed=None):
    """``trials`` SIGKILLs of the node command mid-REAP; returns a summary dict."""
    rng = random.Random(seed)
    command = node_command(module_utils)
    summary = {"parent": "sigtrap-%s" % sigtrap, "trials": 0, "killed_inside_a_round": 0, "parent_intact": 0,
               "intact_when_killed_inside": 0, "problems": {}}
    calibration = Parent(binary, zombies, sigtrap)
    try:
        per_zombie = seconds_per_zombie(calibration, command)
    finally:
        calibration.stop()
    parent = None
    try:
        while summary["trials"] < trials:
            if parent is None or _zombies(parent.pid) < zombies // 5:
                if parent is not None:
                    parent.stop()
                parent = Parent(binary, zombies, sigtrap)
            # Spread over the time the zombies left would take (at most one round): inside a round, mostly.
            window = min(ROUND_SECONDS, per_zombie * _zombies(parent.pid))
            inside, problems = one_trial(parent, command, rng, window)
            summary["trials"] += 1
            summary["killed_inside_a_round"] += inside
            summary["parent_intact"] += not problems
            summary["intact_when_killed_inside"] += inside and not problems
            for problem in problems:
                summary["problems"][problem] = summary["problems"].get(problem, 0) + 1
            if problems:
                parent.stop()
                parent = None
    finally:
        if parent is not None:
            parent.stop()
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--zombies", type=int, default=2500)
    parser.add_argument("--module-utils", default=str(ROOT / "plugins" / "module_utils"))
    parser.add_argument("--binary", required=True, help="reap_parent built from tests/helpers/reap_parent.c")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for sigtrap in ("default", "blocked"):
        result = run_battery(args.trials, sigtrap, args.binary, args.module_utils, args.zombies, args.seed)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
