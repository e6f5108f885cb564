"""The node command's metrics file: totals that survive runs, failures counted, the root step that publishes it,
and promtool's verdict on what it writes."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_engine_real import node_command


def sample(text, name):
    """The value of the unlabelled series ``name`` (None when absent)."""
    match = re.search(r"^zombie_reaper_%s (\S+)$" % re.escape(name), text, re.M)
    return float(match.group(1)) if match else None


def promtool():
    found = shutil.which("promtool") or str(Path(sys.executable).parent / "promtool")
    assert Path(found).exists(), "promtool missing: run `make setup`"
    return found


def test_totals_survive_runs_and_a_failed_run_is_counted(spawn, tmp_path):
    state, prom = tmp_path / "state.json", tmp_path / "zombie_reaper.prom"
    common = ["--state-file", state, "--textfile", prom, "--confirm-seconds", "0.2", "--no-reap",
              "--ladder", "SIGCHLD:1,SIGTERM:1,SIGKILL:3", "--restart-container-init", "always",
              "--container-init-cooldown", "0"]
    reports = []
    for _tenant in range(2):
        tenant = spawn("--zombies", 3, namespace=True)
        result = node_command("--json", "--limit-subtree", tenant.sandbox_pid, *common)
        assert result.returncode == 0, result.stderr
        reports.append(json.loads(result.stdout))
    text = prom.read_text()
    assert sample(text, "runs_total") == 2 and sample(text, "runs_failed_total") == 0
    assert sample(text, "zombies_cleared_total") == 6 == sum(r["zombies_cleared"] for r in reports)
    assert sample(text, "container_restarts_total") == 2
    found = re.findall(r'^zombie_reaper_signals_sent_total\{signal="(\w+)"\} (\d+)$', text, re.M)
    sent = dict((k, int(v)) for k, v in found)
    expected = {}
    for report in reports:
        for signal in report["parents"][0]["signals"]:
            if signal["result"] == "sent":
                expected[signal["signal"]] = expected.get(signal["signal"], 0) + 1
    assert sent == expected and sum(sent.values()) == sum(r["signals_sent"] for r in reports) >= 2, sent
    last_success = sample(text, "last_success_timestamp_seconds")
    lint = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(), lint

    # A run that fails (a bad option): counted, the totals and the last success kept, the run marked failed.
    result = node_command("--ladder", "SIGNOPE:1", *common[:4])
    assert result.returncode == 2
    text = prom.read_text()
    assert sample(text, "last_run_success") == 0 and sample(text, "runs_failed_total") == 1
    assert sample(text, "runs_total") == 2 and sample(text, "last_success_timestamp_seconds") == last_success
    assert json.loads(state.read_text())["totals"]["runs_failed"] == 1

    # A dry run changes no total, and is itself a success.
    result = node_command("--dry-run", "--limit-subtree", os.getpid(), *common)
    text = prom.read_text()
    assert result.returncode == 0 and sample(text, "runs_total") == 2
    assert sample(text, "last_success_timestamp_seconds") > last_success


def test_the_root_step_publishes_only_a_metrics_file_of_ours(tmp_path):
    staged, published = tmp_path / "staged.prom", tmp_path / "textfile" / "zombie_reaper.prom"
    published.parent.mkdir()
    result = node_command("--info", "--limit-subtree", os.getpid(), "--textfile", staged)
    assert result.returncode == 0 and staged.exists(), result.stderr
    content = staged.read_text()
    result = node_command("--publish-metrics", staged, "--textfile", published)
    assert result.returncode == 0, result.stderr
    assert published.read_text() == content and not staged.exists()
    assert os.stat(published).st_mode & 0o777 == 0o644
    # Nothing staged (the run wrote nothing): nothing published, the last file stays, not an error.
    result = node_command("--publish-metrics", staged, "--textfile", published)
    assert result.returncode == 0 and "no metrics to publish" in result.stderr and published.read_text() == content
    # Not ours: a link, or a file that is not our exposition, is refused and the published file is kept.
    staged.symlink_to("/etc/passwd")
    result = node_command("--publish-metrics", staged, "--textfile", published)
    assert result.returncode == 4 and published.read_text() == content, result.stderr
    staged.unlink()
    staged.write_text("root:x:0:0::/root:/bin/sh\n")
    result = node_command("--publish-metrics", staged, "--textfile", published)
    assert result.returncode == 4 and "not a zombie-reaper metrics file" in result.stderr
    assert published.read_text() == content
    staged.write_bytes(b"zombie_reaper_zombies 1\n\xff\xfe\n")  # not text: refused, not a traceback
    result = node_command("--publish-metrics", staged, "--textfile", published)
    assert result.returncode == 4 and "not a zombie-reaper metrics file" in result.stderr, result.stderr
    assert published.read_text() == content


@pytest.mark.skipif(os.geteuid() != 0, reason="a run by root is what keeps the owner")
def test_a_run_by_root_leaves_the_state_file_to_its_owner(tmp_path):
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    os.chown(state_dir, 65534, 65534)
    state = state_dir / "state.json"
    result = node_command("--limit-subtree", os.getpid(), "--state-file", state, "--confirm-seconds", "0")
    assert result.returncode == 0, result.stderr
    assert (os.stat(state).st_uid, os.stat(state).st_gid) == (65534, 65534)  # the directory's owner
    os.chown(state, 65533, 65534)
    node_command("--limit-subtree", os.getpid(), "--state-file", state, "--confirm-seconds", "0")
    assert os.stat(state).st_uid == 65533  # the replaced file's owner
