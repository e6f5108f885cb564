"""REAP on container inits written in Node.js, Java and Go: the evidence behind the README's advice.

Each runtime runs as PID 1 of its own PID namespace (below the test's reaping sandbox), adopts
three orphans that it never reaps, and prints a tick every 100 ms. After the REAP rung the
zombies must be gone, the process must be the same one (pid and start time), no tracer left,
and the ticks must go on.
"""

import os
import shutil
import subprocess
import sys

import pytest

from conftest import (HELPERS, children_of, kill_groups, parent_entry, policy, read_available_lines, wait_until,
                      zombie_children)
from zombie_reaper import engine
from zombie_reaper import procfs
from zombie_reaper.reap import refusal

RUNTIMES = HELPERS / "runtimes"

pytestmark = pytest.mark.skipif(refusal.unsupported_reason() is not None,
                                reason=str(refusal.unsupported_reason()))


def runtime_command(name, tmp_path):
    if name == "node":
        return ["node", str(RUNTIMES / "orphans.js")]
    if name == "java":
        return ["java", "-Xshare:off", str(RUNTIMES / "Orphans.java")]
    binary = tmp_path / "orphans"
    env = dict(os.environ, GOCACHE=str(tmp_path / "gocache"), GOPATH=str(tmp_path / "gopath"), GOFLAGS="")
    subprocess.run(["go", "build", "-o", str(binary), str(RUNTIMES / "orphans.go")], check=True, env=env,
                   cwd=str(tmp_path))
    return [str(binary)]


def read_ticks(stream, timeout):
    return [int(line.split()[1]) for line in read_available_lines(stream, timeout) if line.startswith("tick ")]


@pytest.mark.parametrize("runtime", ["node", "java", "go"])
def test_runtime_container_init_keeps_running_across_reap(runtime, tmp_path):
    tool = {"node": "node", "java": "java", "go": "go"}[runtime]
    if not shutil.which(tool):
        pytest.fail("%s is missing: scripts/setup.sh installs it" % tool)
    command = runtime_command(runtime, tmp_path)
    popen = subprocess.Popen([sys.executable, str(HELPERS / "sandbox.py"), "unshare", "--pid", "--fork",
                              "--mount-proc"] + command, stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert wait_until(lambda: children_of(popen.pid) and children_of(children_of(popen.pid)[0]), 30)
        (unshare,) = children_of(popen.pid)
        (init,) = children_of(unshare)
        assert wait_until(lambda: len(zombie_children(init)) == 3, 60), "no orphans adopted"
        starttime = procfs.read_stat("/proc", init)["starttime"]
        assert read_ticks(popen.stdout, 1.0), "the runtime does not tick"

        report = engine.run(policy(limit_subtree=popen.pid, reap=True, reap_min_age_seconds=0,
                            ladder="REAP:2"))
        entry = parent_entry(report, init)
        assert entry["class"] == "container_init"
        assert entry["outcome"] == "reaped" and entry["zombies_reaped_in_place"] == 3, entry
        assert report["signals_sent"] == 0
        assert zombie_children(init) == []
        stat = procfs.read_stat("/proc", init)
        assert procfs.process_alive(stat) and stat["starttime"] == starttime
        with open("/proc/%d/status" % init) as handle:
            assert procfs.parse_status(handle.read())["TracerPid"] == 0
        after = read_ticks(popen.stdout, 1.0)
        assert len(after) >= 5 and after == list(range(after[0], after[0] + len(after))), after
    finally:
        kill_groups([popen])
