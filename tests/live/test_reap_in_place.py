"""The REAP rung on real processes the test creates: the parent reaps its own zombies and carries on.

Every parent here runs below a reaping sandbox (tests/helpers/sandbox.py) and, for the C parents,
below a monitor that reports any stop or continue event it sees of it (there must be none).
"""

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import (HELPERS, NODE_COMMAND, kill_groups, many, parent_entry, patience, policy, read_available_lines,
                      wait_until, zombie_children)
from zombie_reaper import engine
from zombie_reaper.ladder import MAX_WAIT_SECONDS
from zombie_reaper.parent import inspect_parent
from zombie_reaper import procfs
from zombie_reaper.reap import in_place
from zombie_reaper.reap import refusal
from zombie_reaper.reap import round as reap_round
from zombie_reaper.reap import tracee
from zombie_reaper.scan import scan_procfs

pytestmark = pytest.mark.skipif(refusal.unsupported_reason() is not None,
                                reason=str(refusal.unsupported_reason()))


@pytest.fixture(scope="session")
def reap_parent_binary_32(tmp_path_factory):
    """reap_parent.c as a 32-bit program (i386 here; armhf in the aarch64 guest)."""
    if os.environ.get("REAP_PARENT_BINARY_32"):
        return os.environ["REAP_PARENT_BINARY_32"]
    build = tmp_path_factory.mktemp("reap32")
    # The kernel's asm/ headers serve i386 and x86_64 alike; Debian links them for -m32 only through
    # gcc-multilib, which conflicts with the aarch64 cross compiler the aarch64 tests need.
    (build / "asm").symlink_to("/usr/include/x86_64-linux-gnu/asm")
    binary = build / "reap_parent32"
    subprocess.run(["gcc", "-m32", "-static", "-I", str(build), "-O2", "-Wall", "-Werror", "-pthread",
                    "-o", str(binary), str(HELPERS / "reap_parent.c")], check=True)
    return binary


def read_line_unbuffered(fd):
    """One line, read byte by byte: a buffered readline() could swallow the lines after it."""
    data = b""
    while not data.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte:
            break
        data += byte
    return data.decode()


class CParent(object):
    """reap_parent.c below the sandbox: ``pid`` is the subject (the zombies' parent)."""

    def __init__(self, popen, pid):
        self.popen = popen
        self.pid = pid
        self.starttime = procfs.read_stat("/proc", pid)["starttime"]
        self.lines = []
        self.signals_at_start = self.signal_state()

    def signal_state(self):
        """Blocked, ignored and caught signals of every thread: REAP must leave them as they were."""
        state = {}
        for tid in os.listdir("/proc/%d/task" % self.pid):
            with open("/proc/%d/task/%s/status" % (self.pid, tid)) as handle:
                info = procfs.parse_status(handle.read())
            state[int(tid)] = tuple(info.get(key) for key in ("SigBlk", "SigIgn", "SigCgt"))
        return state

    def status(self, key):
        with open("/proc/%d/status" % self.pid) as handle:
            return procfs.parse_status(handle.read()).get(key)

    def alive(self):
        stat = procfs.read_stat("/proc", self.pid)
        return procfs.process_alive(stat) and stat["starttime"] == self.starttime

    def read_lines(self, timeout=0.5):
        """Lines printed since the last call (subject and monitor share the pipe)."""
        new = read_available_lines(self.popen.stdout, timeout)
        self.lines.extend(new)
        return new

    def wait_for_line(self, prefix, timeout=10):
        deadline = time.monotonic() + patience(timeout)
        while time.monotonic() < deadline:
            for line in self.read_lines(0.1):
                if line.startswith(prefix):
                    return line
        raise AssertionError("no line starting with %r; seen %r" % (prefix, self.lines))


@pytest.fixture(params=["sigtrap-default", "sigtrap-blocked"])
def c_parent(request, reap_parent_binary):
    """Each C-parent test runs twice: with SIGTRAP as usual, and blocked by the parent (on x86_64 that
    takes the syscall-stop path instead of single steps; aarch64 always takes it)."""
    started = []

    def _start(mode, zombies, *extra, sigtrap=request.param.split("-")[1], binary=reap_parent_binary):
        command = [sys.executable, str(HELPERS / "sandbox.py"), str(binary), mode, str(zombies)]
        command += [str(e) for e in extra]
        env = dict(os.environ, REAP_PARENT_SIGTRAP=sigtrap)
        popen = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.PIPE, start_new_session=True,
                                 env=env)
        started.append(popen)
        ready, _unused, _ignored = select.select([popen.stdout], [], [], patience(60))
        assert ready, "reap_parent did not become ready"
        words = read_line_unbuffered(popen.stdout.fileno()).split()  # later lines stay for read_lines()
        assert words[:1] == ["ready"], words
        parent = CParent(popen, int(words[1]))
        assert len(zombie_children(parent.pid)) == zombies
        return parent

    yield _start
    kill_groups(started)


def reap_policy(parent_pid, **options):
    values = {"scope": "all", "limit_subtree": parent_pid, "reap": True, "reap_min_age_seconds": 0,
              "ladder": "REAP:2"}
    values.update(options)
    return policy(**values)


def reap_refusal(report, pid):
    """The reason REAP gave for refusing ``pid``'s parent (REAP must be the rung it skipped first)."""
    skipped = parent_entry(report, pid)["skipped_rungs"]
    assert skipped and skipped[0]["signal"] == "REAP", skipped
    return skipped[0]["reason"]


def assert_untouched_afterwards(parent):
    """Same process, no tracer left, same signal masks, and its own parent saw no stop, continue or exit."""
    assert parent.alive()
    assert parent.status("TracerPid") == 0
    # Waited for: a parent resumed into a restarted sigsuspend() shows its own mask until it is back inside.
    wait_until(lambda: parent.signal_state() == parent.signals_at_start, timeout=2)
    assert parent.signal_state() == parent.signals_at_start
    assert not [line for line in parent.read_lines(0.2) + parent.lines if line.startswith("monitor-event")]


def test_pause_parent_reaps_in_place_and_still_gets_its_signal(c_parent):
    parent = c_parent("pause", 5)
    report = engine.run(reap_policy(parent.pid))
    entry = parent_entry(report, parent.pid)
    assert entry["outcome"] == "reaped" and entry["action"] == "reaped_in_place", entry["skipped_rungs"]
    assert entry["zombies_reaped_in_place"] == 5 and report["zombies_cleared"] == 5
    assert report["signals_sent"] == 0 and report["zombies_reaped_in_place"] == 5
    assert zombie_children(parent.pid) == []
    assert_untouched_afterwards(parent)
    assert parent.lines == []  # pause() was restarted, not ended by a spurious EINTR
    os.kill(parent.pid, signal.SIGUSR1)
    assert parent.wait_for_line("woke") == "woke usr1=1 from=%d" % os.getpid()


def test_read_parent_still_receives_data_and_sees_no_eintr(c_parent):
    parent = c_parent("read", 4)
    report = engine.run(reap_policy(parent.pid))
    assert parent_entry(report, parent.pid)["outcome"] == "reaped"
    assert zombie_children(parent.pid) == []
    parent.popen.stdin.write(b"after the reap\n")
    parent.popen.stdin.flush()
    assert parent.wait_for_line("got") == "got after the reap"
    assert not [line for line in parent.lines if "EINTR" in line]
    assert_untouched_afterwards(parent)


def test_nanosleep_keeps_its_length(c_parent):
    parent = c_parent("sleep", 3, 1.5)
    started = time.monotonic()  # no earlier than the start of its sleep ("ready" comes first)
    time.sleep(0.3)
    reaped_after_ms = (time.monotonic() - started) * 1000
    result = in_place.reap_in_place("/proc", inspect_parent("/proc", parent.pid),
                                    scan_procfs("/proc").zombies_by_parent[parent.pid],
                                    time.monotonic() + 2)
    assert result.refused is None and len(result.reaped) == 3
    line = parent.wait_for_line("slept")
    slept_ms = int(line.split("ms=")[1].split()[0])
    assert line.endswith("rc=0"), line
    # Not cut short; and not restarted from zero, which would end at least 1500 ms after the reap began.
    assert 1490 <= slept_ms < 1500 + reaped_after_ms, (line, reaped_after_ms)
    assert_untouched_afterwards(parent)


def test_sigsuspend_parent_keeps_its_temporary_and_its_own_mask(c_parent):
    parent = c_parent("sigsuspend", 3)
    assert wait_until(lambda: parent.status("State") == "S")
    report = engine.run(reap_policy(parent.pid))
    assert parent_entry(report, parent.pid)["outcome"] == "reaped"
    assert zombie_children(parent.pid) == []
    assert_untouched_afterwards(parent)
    assert parent.lines == []  # sigsuspend() was restarted, not ended
    os.kill(parent.pid, signal.SIGUSR1)
    assert parent.wait_for_line("woke") == "woke usr1=1 blocked=1"  # its own mask came back afterwards


def test_parent_ignoring_sigtrap_keeps_ignoring_it(c_parent):
    parent = c_parent("pause", 3, sigtrap="ignored")
    assert procfs.signal_bit(parent.status("SigIgn"), signal.SIGTRAP)
    report = engine.run(reap_policy(parent.pid))
    assert parent_entry(report, parent.pid)["outcome"] == "reaped"
    assert_untouched_afterwards(parent)  # a single-step trap would have reset it to the default action
    os.kill(parent.pid, signal.SIGTRAP)
    os.kill(parent.pid, signal.SIGUSR1)
    assert parent.wait_for_line("woke").startswith("woke usr1=1")
    assert parent.alive()


def test_python_parent_in_time_sleep(tmp_path):
    script = tmp_path / "py_parent.py"
    script.write_text(
        "import os, time\n"
        "for _ in range(3):\n"
        "    if os.fork() == 0:\n"
        "        os._exit(0)\n"
        "time.sleep(0.2)\n"
        "print('ready', os.getpid(), flush=True)\n"
        "start = time.monotonic()\n"
        "time.sleep(1.5)\n"
        "print('slept', round((time.monotonic() - start) * 1000), flush=True)\n"
        "time.sleep(60)\n")
    popen = subprocess.Popen([sys.executable, str(HELPERS / "sandbox.py"), sys.executable, str(script)],
                             stdout=subprocess.PIPE, start_new_session=True)
    try:
        pid = int(popen.stdout.readline().split()[1])
        starttime = procfs.read_stat("/proc", pid)["starttime"]
        started = time.monotonic()  # no earlier than the start of its sleep ("ready" comes first)
        assert len(zombie_children(pid)) == 3
        time.sleep(0.3)
        reaped_after_ms = (time.monotonic() - started) * 1000
        report = engine.run(reap_policy(pid))
        assert parent_entry(report, pid)["outcome"] == "reaped"
        assert zombie_children(pid) == []
        slept_ms = int(popen.stdout.readline().split()[1])
        # Not cut short; and not restarted from zero, which would end at least 1500 ms after the reap began.
        assert 1490 <= slept_ms < 1500 + reaped_after_ms, reaped_after_ms
        assert procfs.read_stat("/proc", pid)["starttime"] == starttime
    finally:
        kill_groups([popen])


def test_parent_spinning_in_user_space(c_parent):
    parent = c_parent("spin", 3, 3 * 10 ** 9)
    assert wait_until(lambda: procfs.read_stat("/proc", parent.pid)["state"] == "R")
    result = in_place.reap_in_place("/proc", inspect_parent("/proc", parent.pid),
                                    scan_procfs("/proc").zombies_by_parent[parent.pid],
                                    time.monotonic() + 2)
    assert result.refused is None and len(result.reaped) == 3
    assert parent.wait_for_line("spun", timeout=30) == "spun %d" % (3 * 10 ** 9)
    assert_untouched_afterwards(parent)


def test_threaded_parent_whose_main_thread_exited(c_parent):
    parent = c_parent("multi", 4)
    assert wait_until(lambda: procfs.read_stat("/proc", parent.pid)["state"] == "Z")
    # A new thread starts with every signal blocked until glibc restores its mask: snapshot after that.
    assert parent.wait_for_line("thread ready") == "thread ready"
    parent.signals_at_start = parent.signal_state()
    report = engine.run(reap_policy(parent.pid))
    assert parent_entry(report, parent.pid)["outcome"] == "reaped"
    assert zombie_children(parent.pid) == []
    assert_untouched_afterwards(parent)
    os.kill(parent.pid, signal.SIGUSR1)
    assert parent.wait_for_line("woke").startswith("woke usr1=1")


def test_seccomp_filter_that_kills_on_wait4_is_suspended(c_parent):
    parent = c_parent("seccomp", 3)
    assert wait_until(lambda: parent.status("Seccomp") == 2)
    report = engine.run(reap_policy(parent.pid))
    assert parent_entry(report, parent.pid)["outcome"] == "reaped"
    assert_untouched_afterwards(parent)


def test_seccomp_filter_without_cap_sys_admin_is_refused_untouched(c_parent):
    parent = c_parent("seccomp", 3)
    assert wait_until(lambda: parent.status("Seccomp") == 2)
    command = ["setpriv", "--inh-caps=-all,+sys_ptrace,+kill", "--ambient-caps=-all,+sys_ptrace,+kill",
               "--bounding-set=-all,+sys_ptrace,+kill", *NODE_COMMAND, "--json",
               "--scope", "all", "--limit-subtree", str(parent.pid), "--confirm-seconds", "0",
               "--ladder", "REAP:1", "--reap-min-age-seconds", "0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=patience(60), check=False)
    entry = parent_entry(json.loads(result.stdout), parent.pid)
    assert entry["outcome"] == "no_rung_applies"
    assert "seccomp filter" in entry["detail"] and "CAP_SYS_ADMIN" in entry["detail"]
    assert len(zombie_children(parent.pid)) == 3
    assert_untouched_afterwards(parent)


def _allow_all_seccomp_filter():
    """preexec_fn: a seccomp filter that allows everything, as systemd's hardening installs one."""
    import ctypes  # pylint: disable=import-outside-toplevel
    libc = ctypes.CDLL(None, use_errno=True)
    allow = (ctypes.c_uint64 * 1)(0x06 | (0x7fff0000 << 32))  # BPF_RET|BPF_K, SECCOMP_RET_ALLOW

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    program = Program(1, ctypes.cast(allow, ctypes.c_void_p))
    if libc.prctl(22, 2, ctypes.byref(program), 0, 0) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
        raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP")


def test_seccomp_filter_is_refused_untouched_when_the_reaper_has_a_filter_of_its_own(c_parent):
    """The kernel refuses PTRACE_O_SUSPEND_SECCOMP to a tracer under any filter, CAP_SYS_ADMIN or not
    (systemd's PrivateDevices, ProtectClock... install one): refused before attaching, and said why."""
    parent = c_parent("seccomp", 3)
    assert wait_until(lambda: parent.status("Seccomp") == 2)
    command = [*NODE_COMMAND, "--json", "--scope", "all", "--limit-subtree", str(parent.pid),
               "--confirm-seconds", "0", "--ladder", "REAP:1", "--reap-min-age-seconds", "0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=patience(60), check=False,
                            preexec_fn=_allow_all_seccomp_filter)  # pylint: disable=subprocess-popen-preexec-fn
    entry = parent_entry(json.loads(result.stdout), parent.pid)
    assert entry["outcome"] == "no_rung_applies", entry
    assert "seccomp filter of its own" in entry["detail"], entry
    assert len(zombie_children(parent.pid)) == 3
    assert_untouched_afterwards(parent)


def test_unprivileged_user_with_cap_sys_ptrace_reaps_as_the_hardened_unit_does(c_parent):
    parent = c_parent("spin", 3, 3 * 10 ** 9)  # in user space: the syscall instruction comes from the vdso
    command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
               "--inh-caps=-all,+sys_ptrace,+kill", "--ambient-caps=-all,+sys_ptrace,+kill",
               "--bounding-set=-all,+sys_ptrace,+kill", *NODE_COMMAND, "--json",
               "--scope", "all", "--limit-subtree", str(parent.pid), "--confirm-seconds", "0",
               "--ladder", "REAP:1", "--reap-min-age-seconds", "0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=patience(60), check=False)
    assert result.returncode == 0, result.stderr
    entry = parent_entry(json.loads(result.stdout), parent.pid)
    assert entry["outcome"] == "reaped" and entry["zombies_reaped_in_place"] == 3
    assert parent.wait_for_line("spun", timeout=30) == "spun %d" % (3 * 10 ** 9)
    assert_untouched_afterwards(parent)


def test_parent_under_strace_is_refused_and_untouched(c_parent):
    if not shutil.which("strace"):
        pytest.fail("strace is missing: scripts/setup.sh installs it")
    parent = c_parent("pause", 3)
    tracer = subprocess.Popen(["strace", "-q", "-o", "/dev/null", "-p", str(parent.pid)])
    try:
        assert wait_until(lambda: parent.status("TracerPid") == tracer.pid)
        report = engine.run(reap_policy(parent.pid))
        entry = parent_entry(report, parent.pid)
        assert entry["outcome"] == "no_rung_applies"
        assert "already traced by pid %d" % tracer.pid in entry["detail"]
        assert len(zombie_children(parent.pid)) == 3
        assert parent.status("TracerPid") == tracer.pid
    finally:
        tracer.terminate()
        tracer.wait(timeout=10)
    assert parent.alive()


def test_job_stopped_parent_is_refused_and_signal_rungs_take_over(c_parent):
    parent = c_parent("pause", 2)
    os.kill(parent.pid, signal.SIGSTOP)
    try:
        assert wait_until(lambda: parent.status("State") == "T")
        report = engine.run(reap_policy(parent.pid, ladder="REAP:1,SIGCHLD:0.2"))
        assert "stopped" in reap_refusal(report, parent.pid)
        assert parent_entry(report, parent.pid)["signals"][0]["result"] == "refused"
        assert len(zombie_children(parent.pid)) == 2
        assert parent.status("State") == "T" and parent.status("TracerPid") == 0
    finally:
        os.kill(parent.pid, signal.SIGCONT)


def test_32_bit_parent_is_refused_untouched_and_carries_on(c_parent, reap_parent_binary_32):
    parent = c_parent("pause", 3, binary=reap_parent_binary_32)
    report = engine.run(reap_policy(parent.pid, ladder="REAP:1,SIGCHLD:0.2"))
    assert "32-bit" in reap_refusal(report, parent.pid)
    assert len(zombie_children(parent.pid)) == 3
    assert_untouched_afterwards(parent)
    assert parent.lines == []  # its pause() went on
    os.kill(parent.pid, signal.SIGUSR1)
    assert parent.wait_for_line("woke") == "woke usr1=1 from=%d" % os.getpid()


def test_parent_inside_an_rseq_critical_section_is_refused_and_its_section_still_works(c_parent):
    """Each retry resumes the subject into its abort handler (four instructions outside the section); on a
    loaded machine it may not have run them when the next stop comes, and REAP then rightly goes ahead
    from outside the section. So a fresh subject is tried up to three times; a stop outside must reap."""
    for _attempt in range(3):
        parent = c_parent("rseq", 3)
        assert wait_until(lambda: procfs.read_stat("/proc", parent.pid)["state"] == "R")
        report = engine.run(reap_policy(parent.pid, ladder="REAP:1,SIGCHLD:0.2"))
        entry = parent_entry(report, parent.pid)
        if not entry["skipped_rungs"]:  # stopped outside the section: reaped in place, still spinning
            assert entry["signals"][0]["signal"] == "REAP" and entry["signals"][0]["reaped"] == 3, entry
            assert zombie_children(parent.pid) == [] and parent.alive()
            continue
        assert "rseq critical section" in reap_refusal(report, parent.pid)
        assert len(zombie_children(parent.pid)) == 3
        assert_untouched_afterwards(parent)
        os.kill(parent.pid, signal.SIGUSR1)  # aborts the section; the abort handler sees the flag and leaves
        assert parent.wait_for_line("left-rseq").startswith("left-rseq aborts=")
        assert parent.alive()
        return
    pytest.fail("three subjects were each stopped outside their rseq critical section")


def test_parent_in_vfork_is_refused_untouched_and_carries_on(c_parent):
    parent = c_parent("vfork", 2, 4)
    assert wait_until(lambda: parent.status("State") == "D")
    result = in_place.reap_in_place("/proc", inspect_parent("/proc", parent.pid),
                                    scan_procfs("/proc").zombies_by_parent[parent.pid],
                                    time.monotonic() + 2)
    assert result.reaped == [] and "uninterruptible sleep" in result.refused
    assert parent.status("TracerPid") == 0 and len(zombie_children(parent.pid)) == 2
    assert parent.wait_for_line("vforked", timeout=15).startswith("vforked ")
    assert_untouched_afterwards(parent)


def test_parent_that_does_not_stop_in_time_is_refused_then_released_once_it_stops(c_parent):
    """The pre-check keeps parents in uninterruptible sleep out; this drives one round directly at a parent
    in vfork to exercise the 200 ms stop timeout and the later release."""
    parent = c_parent("vfork", 2, 1)
    assert wait_until(lambda: parent.status("State") == "D")
    subject = inspect_parent("/proc", parent.pid)
    targets = [(z, z.pid) for z in scan_procfs("/proc").zombies_by_parent[parent.pid]]
    one = reap_round.Round("/proc", subject, parent.pid, targets, False)
    with pytest.raises(refusal.ReapRefused, match="did not stop within 200 ms"):
        one.run()
    assert one.reaped == [] and parent.pid in tracee.ABANDONED
    # Once vfork ends the parent reaches the interrupt stop it was asked for, and is released from there.
    assert wait_until(lambda: parent.status("State") == "t", timeout=15)
    tracee.release_abandoned()
    assert tracee.ABANDONED == []
    assert parent.wait_for_line("vforked", timeout=15).startswith("vforked ")
    assert len(zombie_children(parent.pid)) == 3  # its two zombies and the vfork child: nothing reaped
    assert_untouched_afterwards(parent)


SEND_MID_ROUND = """
import os, sys
pid, signum, first_zombie = (int(arg) for arg in sys.argv[1:])
print("watching", flush=True)
while os.path.exists("/proc/%d" % first_zombie):
    pass
with open("/proc/%d/status" % pid) as handle:
    traced = "TracerPid:\\t0\\n" not in handle.read()
os.kill(pid, signum)
print("sent while traced" if traced else "sent", flush=True)
"""


def send_mid_round(pid, signum, zombies):
    """A process (its own GIL: the reaper's thread is busy) that sends ``signum`` to ``pid`` as soon as
    the first of ``zombies`` has been reaped, i.e. while the injected calls are running."""
    command = [sys.executable, "-c", SEND_MID_ROUND, str(pid), str(int(signum)), str(zombies[0].pid)]
    watcher = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert watcher.stdout.readline() == "watching\n"
    return watcher


def test_signal_arriving_mid_round_is_delivered_once_with_its_sender(c_parent):
    count = many(6000)
    parent = c_parent("pause", count)
    zombies = scan_procfs("/proc").zombies_by_parent[parent.pid]
    sender = send_mid_round(parent.pid, signal.SIGUSR1, zombies)
    # The deadline is a hang guard: on a loaded machine or under emulation a round reaps fewer zombies.
    result = in_place.reap_in_place("/proc", inspect_parent("/proc", parent.pid), zombies,
                                    time.monotonic() + patience(120))
    assert sender.wait(timeout=patience(60)) == 0
    assert sender.stdout.read() == "sent while traced\n"
    assert result.refused is None and len(result.reaped) == count
    assert result.rounds >= 2  # the signal ended its round: it was not held back until the round's end
    assert zombie_children(parent.pid) == []
    assert parent.wait_for_line("woke") == "woke usr1=1 from=%d" % sender.pid
    assert [line for line in parent.read_lines(0.3) + parent.lines if line.startswith("woke")] == \
        ["woke usr1=1 from=%d" % sender.pid]
    assert_untouched_afterwards(parent)


def test_ten_thousand_zombies_under_one_parent(c_parent):
    count = many(10000)  # 10,000 here; fewer in the emulated guest
    parent = c_parent("pause", count)
    affinity = os.sched_getaffinity(parent.pid)
    deadline = min(patience(120), MAX_WAIT_SECONDS)  # a deadline, not a wait; no rung may wait longer
    report = engine.run(reap_policy(parent.pid, ladder="REAP:%d" % deadline))
    assert os.sched_getaffinity(parent.pid) == affinity  # pinned to one CPU for the round, then restored
    entry = parent_entry(report, parent.pid)
    assert entry["outcome"] == "reaped" and entry["zombies_reaped_in_place"] == count
    assert entry["signals"][0]["stopped_ms"] > 0
    assert zombie_children(parent.pid) == []
    assert_untouched_afterwards(parent)


def test_container_init_in_nested_pid_namespace_is_reaped_from_outside(spawn):
    tenant = spawn("--zombies", 4, "--child-name", "sshd", namespace=True)
    report = engine.run(reap_policy(tenant.sandbox_pid, scope="containers"))
    entry = parent_entry(report, tenant.pid)
    assert entry["class"] == "container_init" and entry["container"]["pid_in_container"] == 1
    assert entry["outcome"] == "reaped" and entry["action"] == "reaped_in_place"
    assert report["signals_sent"] == 0
    assert tenant.zombies() == []
    assert tenant.alive()  # same pid and start time: the container was not restarted
    with open("/proc/%d/status" % tenant.pid) as handle:
        assert procfs.parse_status(handle.read())["TracerPid"] == 0


def test_info_tells_whether_reap_would_work_without_attaching(c_parent):
    parent = c_parent("pause", 2)
    traced = c_parent("pause", 2)
    tracer = subprocess.Popen(["strace", "-q", "-o", "/dev/null", "-p", str(traced.pid)])
    try:
        assert wait_until(lambda: traced.status("TracerPid") == tracer.pid)
        for target, expected in ((parent, ""), (traced, "already traced by pid %d" % tracer.pid)):
            report = engine.run(reap_policy(target.pid, confirm_seconds=0), mode="info")
            entry = parent_entry(report, target.pid)
            assert entry["outcome"] == "eligible" and expected in entry["reap_refusal"]
            assert (entry["reap_refusal"] == "") == (expected == "")
        assert parent.status("TracerPid") == 0 and len(zombie_children(parent.pid)) == 2
    finally:
        tracer.terminate()
        tracer.wait(timeout=10)


def test_dry_run_says_would_reap_and_touches_nothing(c_parent):
    parent = c_parent("pause", 3)
    report = engine.run(reap_policy(parent.pid), dry_run=True)
    entry = parent_entry(report, parent.pid)
    assert entry["outcome"] == "would_reap" and entry["signals"] == [
        {"signal": "REAP", "result": "would_reap", "zombies": 3}]
    assert len(zombie_children(parent.pid)) == 3
    assert_untouched_afterwards(parent)


def test_young_zombies_wait_for_a_later_run_instead_of_escalating(c_parent, tmp_path):
    parent = c_parent("pause", 3)
    state = str(tmp_path / "state.json")
    report = engine.run(reap_policy(parent.pid, state_file=state, reap_min_age_seconds=3600,
                        ladder="REAP:1,SIGKILL:1"))
    entry = parent_entry(report, parent.pid)
    assert entry["outcome"] == "too_young" and report["signals_sent"] == 0
    assert len(zombie_children(parent.pid)) == 3
    assert parent.alive()


def test_node_command_reap_switch(c_parent):
    parent = c_parent("pause", 3)
    result = subprocess.run([*NODE_COMMAND, "--reap", "--reap-min-age-seconds", "0.1", "--scope",
                             "all", "--limit-subtree", str(parent.pid), "--confirm-seconds", "0"],
                            capture_output=True, text=True, timeout=patience(60), check=False)
    assert result.returncode == 0, result.stderr
    assert "reaped in place, no signal: 3" in result.stdout
    assert zombie_children(parent.pid) == []
    assert_untouched_afterwards(parent)
