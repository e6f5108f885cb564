"""A node without systemd: cron runs the reaper behind flock and clears the leaky tenant."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
import node  # noqa: E402  pylint: disable=wrong-import-position


def test_cron_file_runs_the_reaper_every_minute_behind_flock(host):
    cron = host.file("/etc/cron.d/zombie-reaper")
    assert cron.exists and cron.mode == 0o644
    lines = [entry for entry in cron.content_string.splitlines() if entry.startswith("*/1 * * * * root ")]
    assert len(lines) == 1 and "flock -n " in lines[0] and "/usr/local/bin/zombie-reaper" in lines[0], lines
    assert not host.file("/etc/systemd/system/zombie-reaper.timer").exists


def test_a_run_from_cron_clears_the_leaky_tenant(host):
    leaky = node.wait_until(lambda: node.tenant_pid(host, "leaky-tenant"))
    assert leaky
    before = node.wait_until(lambda: node.sshd_zombies(host, leaky))
    assert before
    # cron fires at the next full minute; allow two.
    report = node.wait_until(lambda: [r for r in node.reports(host) if node.entry_for(r, leaky)], timeout=150,
                             interval=2)
    assert report, "no run from cron acted on the tenant"
    entry = node.entry_for(report[-1], leaky)
    assert entry["class"] == "container_init" and entry["outcome"] == "parent_exited", entry
    assert node.wait_until(lambda: not [p for p in before if host.file("/proc/%d" % p).exists], timeout=10)
