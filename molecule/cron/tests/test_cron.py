"""A node without systemd: cron runs the reaper (behind its own lock) and clears the leaky tenant."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
import node  # noqa: E402  pylint: disable=wrong-import-position


def test_cron_file_runs_the_reaper_every_minute(host):
    cron = host.file("/etc/cron.d/zombie-reaper")
    assert cron.exists and cron.mode == 0o644
    lines = [entry for entry in cron.content_string.splitlines() if entry.startswith("*/1 * * * * root ")]
    assert len(lines) == 1 and lines[0].endswith(
        "/usr/local/bin/zombie-reaper --json >/dev/null 2>>/var/log/zombie-reaper/errors.log"), lines
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
    # Reaped in place as root from cron: no signal, no restart (it goes on leaking; the next run reaps again).
    assert entry["outcome"] == "reaped" and entry["action"] == "reaped_in_place", entry
    assert entry["zombies_reaped_in_place"] >= 1 and entry["signals"][0]["signal"] == "REAP"
    assert node.tenant_pid(host, "leaky-tenant") == entry["pid"]
    # What the runs printed on stderr is kept (an error before the log opens would be there): nothing.
    errors = host.file("/var/log/zombie-reaper/errors.log")
    assert errors.exists and errors.content_string == ""
