"""Output files on real mounts the test creates: checked before anything is signalled, written whole or not at
all, never through a planted link; a run that acted and could not record says so (exit 5) with its report."""

import fcntl
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

from conftest import MODULE_UTILS, NODE_COMMAND, parent_entry, patience

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for mount namespaces")

SIGCHLD_LADDER = ["--scope", "all", "--confirm-seconds", "0", "--no-reap", "--ladder", "SIGCHLD:2"]


def in_mount_namespace(setup, command):
    """Run ``command`` in a private mount namespace after the shell ``setup`` (mounts the test chose)."""
    script = "set -e; %s; exec \"$@\"" % setup
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"] + command,
                          capture_output=True, text=True, timeout=patience(60), check=False)


@pytest.mark.parametrize("output", ["state", "log", "textfile"])
def test_an_unusable_output_is_refused_before_anything_is_signalled(spawn, tmp_path, output):
    tenant = spawn("--zombies", 2, "--reap-on-sigchld")
    readonly = tmp_path / "ro"
    readonly.mkdir()
    paths = {"state": ["--state-file", str(readonly / "state.json")], "log": ["--log", str(readonly / "reaper.log")],
             "textfile": ["--textfile", str(tmp_path / "missing-dir" / "zombie_reaper.prom")]}
    for _run in range(3):  # every run refuses: the same parent is never signalled
        result = in_mount_namespace("mount -t tmpfs -o ro,size=1m tmpfs %s" % readonly,
                                    NODE_COMMAND + SIGCHLD_LADDER + ["--limit-subtree", str(tenant.pid)] + paths[output])
        assert result.returncode == 4, (result.stdout, result.stderr)
        assert "cannot" in result.stderr and result.stderr.count("zombie-reaper: error:") == 1, result.stderr
    assert tenant.alive() and len(tenant.zombies()) == 2


def test_a_run_that_acted_and_could_not_log_prints_its_report_and_exits_5(spawn, tmp_path):
    tenant = spawn("--zombies", 2, "--reap-on-sigchld")
    log = tmp_path / "reaper.log"
    log.write_text("x" * 4000 + "\n")
    state = tmp_path / "state.json"
    # A file-size limit of 4 KiB (bash counts KiB): the pre-check passes (the log opens), the report's line does not fit.
    command = ["bash", "-c", "trap '' XFSZ; ulimit -f 4; exec \"$@\"", "bash"] + NODE_COMMAND + SIGCHLD_LADDER + [
        "--limit-subtree", str(tenant.pid), "--json", "--log", str(log), "--state-file", str(state)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=patience(60), check=False)
    assert result.returncode == 5, (result.stdout, result.stderr)
    report = json.loads(result.stdout)  # who was signalled is printed, not lost
    assert [s["signal"] for s in parent_entry(report, tenant.pid)["signals"]] == ["SIGCHLD"]
    assert "could not record this run" in result.stderr and "log file" in result.stderr
    assert log.read_text() == "x" * 4000 + "\n"  # the line is whole or absent: here absent
    assert json.loads(state.read_text())["version"] == 3  # what could be saved was
    assert tenant.zombies() == []


# In-process checks of the writers, against real mounts and a real full file system.
WRITERS = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
from zombie_reaper.errors import ReaperError
from zombie_reaper.files import append_whole, write_atomically
directory = sys.argv[2]
log = os.path.join(directory, "reaper.log")
with open(log, "w") as handle:
    handle.write("first line\n")
filler = os.open(os.path.join(directory, "filler"), os.O_WRONLY | os.O_CREAT)
try:  # fill the file system, then free about one page
    while True:
        os.write(filler, b"\0" * 4096)
except OSError:
    pass
os.ftruncate(filler, os.fstat(filler).st_size - 4096)
os.close(filler)
results = {}
try:
    append_whole(log, b"y" * 12000 + b"\n", "log file")  # needs 3 pages; one is free
    results["append"] = "written"
except ReaperError as exc:
    results["append"] = str(exc)
results["log"] = open(log).read()
try:
    write_atomically(os.path.join(directory, "state.json"), b"z" * 65536, 0o600, "state file")
    results["replace"] = "written"
except ReaperError as exc:
    results["replace"] = str(exc)
results["left"] = sorted(n for n in os.listdir(directory) if n.endswith(".tmp"))
print(json.dumps(results))
"""


def test_a_full_file_system_leaves_whole_lines_and_no_litter(tmp_path):
    mount = tmp_path / "tiny"
    mount.mkdir()
    result = in_mount_namespace("mount -t tmpfs -o size=64k tmpfs %s" % mount,
                                [sys.executable, "-c", WRITERS, str(MODULE_UTILS), str(mount)])
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)
    assert "No space left" in results["append"] and results["log"] == "first line\n"
    assert "No space left" in results["replace"] and results["left"] == []


def test_a_planted_link_is_never_followed(tmp_path):
    sys.path.insert(0, str(MODULE_UTILS))
    from zombie_reaper.metrics import write_textfile  # pylint: disable=import-outside-toplevel
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    prom = tmp_path / "zombie_reaper.prom"
    # links where the old writer put its temp file, and at the target itself
    os.symlink(victim, "%s.%d.tmp" % (prom, os.getpid()))
    os.symlink(victim, prom)
    write_textfile(str(prom), "zombie_reaper_zombies 0\n")
    assert victim.read_text() == "precious\n"
    assert not prom.is_symlink() and prom.read_text() == "zombie_reaper_zombies 0\n"
    assert oct(prom.stat().st_mode & 0o777) == "0o644"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["victim", prom.name, prom.name + ".%d.tmp" % os.getpid()])


def test_a_run_beside_another_that_holds_the_state_waits_its_turn(spawn, tmp_path):
    tenant = spawn("--zombies", 2, "--reap-on-sigchld")
    state = tmp_path / "state.json"
    with open(str(state) + ".lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as the timer's run holds it
        result = subprocess.run(NODE_COMMAND + SIGCHLD_LADDER + ["--limit-subtree", str(tenant.pid), "--state-file",
                                                                 str(state)],
                                capture_output=True, text=True, timeout=patience(60), check=False)
    assert result.returncode == 3 and "holds %s.lock" % state in result.stderr, result.stderr
    assert len(tenant.zombies()) == 2  # nothing signalled


def test_files_a_root_run_creates_stay_the_service_users(spawn, tmp_path, request):
    """A run by hand as root in the service's directory (the config-bound wrapper logs where the unit logs):
    the log, state and lock it creates take the directory's owner, so the service's next run can still
    append, save and lock; and it never appends through a link planted there."""
    tenant = spawn("--zombies", 2, "--reap-on-sigchld")  # a SIGCHLD clears its zombies
    service_dir = pathlib.Path(tempfile.mkdtemp(prefix="zr-service-"))  # pytest's root-only tmp_path would bar nobody
    request.addfinalizer(lambda: shutil.rmtree(service_dir))
    os.chown(service_dir, 65534, 65534)
    outputs = ["--limit-subtree", str(tenant.pid), "--log", str(service_dir / "reaper.log"),
               "--state-file", str(service_dir / "state.json")]
    as_root = subprocess.run(NODE_COMMAND + SIGCHLD_LADDER + outputs,  # acts on the test's own tenant only
                             capture_output=True, text=True, timeout=patience(60), check=False)
    assert as_root.returncode == 0, as_root.stderr
    assert tenant.zombies() == []
    created = {p.name: (p.stat().st_uid, p.stat().st_gid) for p in service_dir.iterdir()}
    assert set(created) == {"reaper.log", "state.json", "state.json.lock"}, created
    assert set(created.values()) == {(65534, 65534)}, created

    as_service = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *NODE_COMMAND,
                                 *SIGCHLD_LADDER, "--dry-run", *outputs],
                                capture_output=True, text=True, timeout=patience(60), check=False)
    assert as_service.returncode == 0, as_service.stderr
    assert len((service_dir / "reaper.log").read_text().splitlines()) == 2

    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (service_dir / "reaper.log").unlink()
    os.symlink(victim, service_dir / "reaper.log")
    planted = subprocess.run(NODE_COMMAND + SIGCHLD_LADDER + ["--dry-run"] + outputs,
                             capture_output=True, text=True, timeout=patience(60), check=False)
    assert planted.returncode != 0 and "reaper.log" in planted.stderr, planted.stderr
    assert victim.read_text() == "precious\n"
