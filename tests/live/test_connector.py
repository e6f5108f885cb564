"""The proc connector, read only: exit events of the test's own children, as the kernel sends them.

Listening needs this machine's initial user and PID namespaces (and CAP_NET_ADMIN); nothing here signals or
traces anything, and only events of processes the test made are looked at."""

import os
import subprocess
import sys
import time

import pytest
from zombie_reaper import procfs
from zombie_reaper.watch.connector import ConnectorUnavailable, EventsLost, ProcConnector

from conftest import MODULE_UTILS, patience


def _listening(**kwargs):
    connector = ProcConnector(**kwargs)
    try:
        connector.open()
    except ConnectorUnavailable as exc:
        pytest.skip("no proc connector here: %s" % exc)
    return connector


def _exits_of(connector, pids, timeout):
    """Exit events of ``pids`` (process exits only) until each has arrived or ``timeout`` passed."""
    found = {}
    deadline = time.monotonic() + patience(timeout)
    while len(found) < len(pids) and time.monotonic() < deadline:
        for event in connector.read(0.2) or ():
            if event.is_process and event.pid in pids:
                found[event.pid] = event
    return found


def test_exit_event_names_the_child_its_parent_its_status_and_the_moment_it_died():
    with _listening() as connector:
        before = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os._exit(7)
        event = _exits_of(connector, {pid}, 10)[pid]
        after = time.monotonic()
        # Not yet waited for: the event comes while the child is still a zombie.
        assert procfs.read_stat("/proc", pid)["state"] == "Z"
        os.waitpid(pid, 0)
    assert (event.tgid, event.ppid) == (pid, os.getpid())
    assert event.exit_code == 7 << 8  # as wait() reports it
    assert event.exit_signal == 17  # SIGCHLD, what the parent is sent
    assert before <= event.at <= after  # CLOCK_MONOTONIC, the clock of time.monotonic()


def test_a_burst_of_300_exits_fits_in_the_large_buffer():
    with _listening() as connector:
        assert connector.buffer_bytes >= 8 * 1024 * 1024
        pids = set()
        for _index in range(300):
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            pids.add(pid)
        time.sleep(patience(0.5))  # nothing read meanwhile: the buffer holds the burst (fork events too)
        found = _exits_of(connector, pids, 20)
        for pid in pids:
            os.waitpid(pid, 0)
    assert set(found) == pids


def test_an_overflowing_buffer_is_reported_as_events_lost():
    with _listening(receive_buffer=4096) as connector:
        pids = []
        for _index in range(200):
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            pids.append(pid)
        for pid in pids:
            os.waitpid(pid, 0)
        with pytest.raises(EventsLost):
            for _index in range(1000):
                if connector.read(0.1) is None:
                    break


@pytest.mark.parametrize("namespaces", [["--pid"], ["--net", "--pid"]], ids=["pid", "net-and-pid"])
def test_outside_the_initial_namespaces_it_says_why(namespaces):
    """In another PID namespace the kernel stays silent; in another network namespace it refuses the send."""
    _listening().close()  # here it answers
    probe = ("import sys; sys.path.insert(0, %r)\n"
             "from zombie_reaper.watch.connector import ConnectorUnavailable, ProcConnector\n"
             "try:\n    ProcConnector().open()\nexcept ConnectorUnavailable as exc:\n    print(exc)\n"
             "else:\n    print('answered')\n" % str(MODULE_UTILS))
    result = subprocess.run(["unshare"] + namespaces + ["--fork", sys.executable, "-c", probe], capture_output=True,
                            timeout=patience(30), check=True)
    assert b"serves only the initial" in result.stdout, result.stdout
