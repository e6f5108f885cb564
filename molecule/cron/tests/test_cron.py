"""A node without systemd: cron runs the reaper (behind its own lock) and clears the leaky tenant."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
import node  # noqa: E402  pylint: disable=wrong-import-position


def test_cron_file_runs_the_reaper_every_minute(host):
    cron = host.file("/etc/cron.d/zombie-reaper")
    assert cron.exists and cron.mode == 0o644
    lines = [entry for entry in cron.content_string.splitlines() if entry.startswith("*/1 * * * * root ")]
    assert len(lines) == 1 and lines[0].endswith("/usr/local/bin/zombie-reaper >/dev/null 2>&1"), lines
    assert not host.file("/etc/systemd/system/zombie-reaper.timer").exists


def test_a_run_from_cron_clears_the_leaky_tenant(host):
    def tenant_entries():
        return [parent for report in node.reports(host) for parent in report["parents"]
                if parent["cmdline"].endswith(" leaky-tenant")]

    # cron fires at each full minute (the first run may already be over): allow two.
    entries = node.wait_until(tenant_entries, timeout=300, interval=2)  # a hang guard: cron + random sleep + a slow node
    assert entries, "no run from cron acted on the tenant"
    entry = entries[-1]
    assert entry["class"] == "container_init" and entry["zombie_names"].get("sshd", 0) >= 1
    assert entry["outcome"] == "parent_exited", entry  # the signal ladder (no REAP): SIGKILL
    assert node.tenant_pid(host, "leaky-tenant") is None
    assert not [pid for pid, _ppid, state, comm, _args in node.processes(host) if state.startswith("Z") and comm == "sshd"]
