"""A /proc mounted with hidepid hides other users' processes: a scan that cannot see them all must refuse
(exit 4, the reason named), not report a clean node. Read only (info), in a mount namespace of its own."""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import MODULE_UTILS, patience

NOBODY = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
# The node's interpreter, not the test's (a virtualenv or pyenv under /root is closed to nobody).
INFO = ["/usr/bin/python3", "-I", "-S", "-c", "import sys; sys.path.insert(0, %r); "
        "from zombie_reaper.cli import main; raise SystemExit(main())" % str(MODULE_UTILS), "--info", "--json"]


@pytest.fixture
def proc_mount():
    where = tempfile.mkdtemp(prefix="zombie-reaper-proc.")
    os.chmod(where, 0o755)  # nobody must reach it
    yield where
    shutil.rmtree(where)


def info_in_own_mount(where, options, user):
    """``--info`` on a procfs mounted at ``where`` with ``options``, in a private mount namespace."""
    # 80 tmpfs stacked below the procfs first: mountinfo then runs past the page one read() returns
    script = ('i=0; while [ $i -lt 80 ]; do mount -t tmpfs pad "$2" || exit 1; i=$((i + 1)); done; '
              'mount -t proc -o "$1" proc "$2" && shift 2 && exec "$@"')
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", options, where]
                          + user + INFO + ["--proc", where], capture_output=True, text=True, timeout=patience(60), check=False)


def test_hidepid_that_hides_processes_from_the_reaper_is_an_error_naming_it(proc_mount):
    result = info_in_own_mount(proc_mount, "hidepid=2", NOBODY)
    assert result.returncode == 4, result
    assert "hidepid=" in result.stderr and "CAP_SYS_PTRACE" in result.stderr and result.stdout == ""


def test_hidepid_does_not_hide_from_root_or_the_gid_group(proc_mount):
    as_root = info_in_own_mount(proc_mount, "hidepid=2", [])
    assert as_root.returncode == 0, as_root.stderr
    in_group = info_in_own_mount(proc_mount, "hidepid=2,gid=65534", NOBODY)
    assert in_group.returncode == 0, in_group.stderr


def test_a_plain_proc_is_read_by_any_user(proc_mount):
    result = info_in_own_mount(proc_mount, "hidepid=0", NOBODY)
    assert result.returncode == 0, result.stderr
