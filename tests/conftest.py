"""Shared fixtures: real zombie parents made by the test, always inside a sandbox it owns."""

import os
import select
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from zombie_reaper import procfs
from zombie_reaper.options import Policy

ROOT = Path(__file__).resolve().parents[1]
HELPERS = ROOT / "tests" / "helpers"
MODULE_UTILS = ROOT / "plugins" / "module_utils"
PACKAGE = MODULE_UTILS / "zombie_reaper"
# The node command as the role's wrapper runs it: the package imported from its directory, no site-packages.
# Waits for what must happen (hang guards) stretch by this factor, and large process counts shrink by it, where
# everything runs slower than on a quiet machine: the emulated aarch64 guest sets it (tests/aarch64/run.sh).
# No test measures speed against it; a timing under test is compared with something measured in the same run.
SLOWDOWN = float(os.environ.get("FLEETOPS_TEST_SLOWDOWN", "1"))


def ansible_env():
    """The environment of an `ansible`/`ansible-playbook` run from this checkout (json output, no noise)."""
    env = dict(os.environ)
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_DEPRECATION_WARNINGS="0", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    return env


def patience(seconds):
    """``seconds`` of waiting for something that must happen, stretched by SLOWDOWN."""
    return seconds * SLOWDOWN


def many(count, minimum=500):
    """A large process count, shrunk by SLOWDOWN (never below ``minimum``)."""
    return max(int(count / SLOWDOWN), minimum)


NODE_COMMAND = [sys.executable, "-I", "-S", "-c", "import sys; sys.path.insert(0, %r); "
                "from zombie_reaper.cli import main; raise SystemExit(main())" % str(MODULE_UTILS)]


def children_of(pid):
    """PIDs whose parent is ``pid`` (the kernel's children file is not always built in)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = procfs.read_stat("/proc", int(name))
            if stat and stat["ppid"] == pid:
                found.append(int(name))
    return found


def zombie_children(pid):
    found = []
    for child in children_of(pid):
        stat = procfs.read_stat("/proc", child)
        if stat and stat["state"] == "Z":
            found.append(child)
    return sorted(found)


def alive(pid, starttime=None):
    stat = procfs.read_stat("/proc", pid)
    if stat is None or stat["state"] in ("Z", "X"):
        return False
    return starttime is None or stat["starttime"] == starttime


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + patience(timeout)
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class Tenant(object):
    """A zombie parent made by a test: ``pid`` is its PID as this test sees it."""

    def __init__(self, popen, pid, sandbox_pid, nested_pid=None):
        self.popen = popen
        self.pid = pid
        self.sandbox_pid = sandbox_pid
        self.nested_pid = nested_pid
        self.starttime = procfs.read_stat("/proc", pid)["starttime"]

    def zombies(self):
        return zombie_children(self.pid)

    def alive(self):
        return alive(self.pid, self.starttime)


@pytest.fixture
def spawn():
    """Start ``zombie_parent.py`` under a reaping sandbox (optionally in a new PID namespace).

    Everything is killed with its process group at teardown.
    """
    started = []

    def _spawn(*args, namespace=False):
        command = [sys.executable, str(HELPERS / "zombie_parent.py")] + [str(a) for a in args]
        if namespace:
            command = ["unshare", "--pid", "--fork", "--mount-proc"] + command
        command = [sys.executable, str(HELPERS / "sandbox.py")] + command
        popen = subprocess.Popen(command, stdout=subprocess.PIPE, start_new_session=True)
        started.append(popen)
        ready, _unused, _ignored = select.select([popen.stdout], [], [], patience(20))
        assert ready, "zombie_parent.py did not become ready"
        words = popen.stdout.readline().decode().split()
        assert words and words[0] == "ready", words
        sandbox = popen.pid
        if namespace:
            (unshare,) = children_of(sandbox)
            (pid,) = children_of(unshare)
            nested = [c for c in children_of(pid) if not procfs.read_stat("/proc", c)["state"] == "Z"]
            nested_pid = nested[0] if len(words) > 2 else None
        else:
            pid = int(words[1])
            nested_pid = int(words[2]) if len(words) > 2 else None
        return Tenant(popen, pid, sandbox, nested_pid)

    yield _spawn
    kill_groups(started)


def kill_groups(popens):
    """SIGKILL each started command's process group (every test process is a session leader) and wait."""
    for popen in popens:
        try:
            os.killpg(popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        popen.wait(timeout=10)


def read_available_lines(stream, timeout):
    """Lines a child writes to ``stream`` within ``timeout`` seconds (until it goes quiet or closes)."""
    deadline = time.monotonic() + timeout
    fd = stream.fileno()
    chunks = []
    while True:
        ready, _unused, _ignored = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            break
        data = os.read(fd, 65536)
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode().splitlines()


# The cgroup v1 pids hierarchy, where tests make the cgroups (and PID limits) of their tenants.
PIDS_HIERARCHY = Path("/sys/fs/cgroup/pids")
if os.geteuid() != 0 or not (PIDS_HIERARCHY / "cgroup.procs").exists():
    PIDS_HIERARCHY = None


@pytest.fixture
def pids_cgroup():
    """Make cgroups below a private top one and move processes in; everything is removed at teardown (this
    fixture is set up before ``spawn``, so it is torn down after the processes are killed)."""
    top = PIDS_HIERARCHY / ("fleetops-test-" + uuid.uuid4().hex[:8])
    top.mkdir()

    def _move(pid, relative, limit=None):
        group = top / relative
        group.mkdir(parents=True, exist_ok=True)
        (group / "cgroup.procs").write_text("%d\n" % pid)
        if limit is not None:
            (group / "pids.max").write_text("%s\n" % limit)
        return group

    yield _move
    for group in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)) + [top]:
        for pid in (group / "cgroup.procs").read_text().split():
            try:
                (PIDS_HIERARCHY / "cgroup.procs").write_text(pid + "\n")
            except OSError:
                pass  # gone meanwhile
        # A killed process may still be leaving (on a busy machine, for a while): wait until the group is empty.
        assert wait_until(lambda: not (group / "cgroup.procs").read_text().split()), group
        group.rmdir()


def policy(**options):
    """A policy for tests of the signal ladder: fast, no confirmation delay unless asked, no REAP rung unless
    asked (REAP has tests of its own, tests/live/test_reap_in_place.py), and container inits escalated
    whatever their PID headroom (the restart gate has tests of its own, tests/live/test_restart_gate.py)."""
    values = {"confirm_seconds": 0, "ladder": "SIGCHLD:2,SIGTERM:2,SIGKILL:3", "restart_container_init": "always",
              "reap": False}
    values.update(options)
    return Policy.from_options(**values)


def parent_entry(report, pid):
    entries = [p for p in report["parents"] if p["pid"] == pid]
    assert len(entries) == 1, report["parents"]
    return entries[0]


@pytest.fixture(scope="session")
def reap_parent_binary(tmp_path_factory):
    """tests/helpers/reap_parent.c, built once."""
    if os.environ.get("REAP_PARENT_BINARY"):  # built beforehand (the aarch64 VM has no compiler)
        return os.environ["REAP_PARENT_BINARY"]
    binary = tmp_path_factory.mktemp("reap") / "reap_parent"
    subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-pthread", "-o", str(binary),
                    str(HELPERS / "reap_parent.c")], check=True)
    return binary
