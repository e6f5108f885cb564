"""Watch mode's unit on a booted systemd node that is itself a container: no exit events, the full scan alone."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
import node  # noqa: E402  pylint: disable=wrong-import-position

UNIT = "zombie-reaper-watch.service"


def journal(host):
    return host.check_output("journalctl -u %s --no-pager -o cat" % UNIT)


def test_the_service_is_ready_and_says_once_why_it_has_no_exit_events(host):
    service = host.service(UNIT)
    assert service.is_enabled and service.is_running
    status = host.check_output("systemctl show -p StatusText --value %s" % UNIT)
    assert status.startswith("periodic scans only;"), status  # READY=1 and STATUS= came through the sandbox
    said = journal(host)
    assert said.count("watch: no exit events (") == 1 and "serves only the initial" in said, said[-2000:]
    assert "running the full scan alone, every 10s" in said


def test_its_full_scans_reap_the_leaky_tenant_in_place(host):
    leaky = node.wait_until(lambda: node.tenant_pid(host, "leaky-tenant"))
    start = node.starttime(host, leaky)

    def reaped_by_watch():
        return [e for r in node.reports(host) if "watch" in r for e in r["parents"]
                if e["pid"] == leaky and e["action"] == "reaped_in_place"]

    entries = node.wait_until(reaped_by_watch, timeout=90)
    assert entries and all(e["signals"][0]["signal"] == "REAP" for e in entries)
    assert node.tenant_pid(host, "leaky-tenant") == leaky and node.starttime(host, leaky) == start
    assert node.tracer(host, leaky) == 0
    assert all(not r["watch"]["exit_events"] for r in node.reports(host) if "watch" in r)
    assert node.daemons(host) == node.daemons_before(host)


def series(host, path):
    text = host.file(path).content_string if host.file(path).exists else ""
    return dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_its_own_metrics_are_published_beside_the_timers_by_the_path_unit(host):
    published = "/var/lib/node_exporter/zombie_reaper_watch.prom"
    assert host.service("zombie-reaper-watch-metrics.path").is_running
    first = node.wait_until(lambda: series(host, published).get("zombie_reaper_watch_full_scans_total"), timeout=90)
    assert first, host.check_output("journalctl -u zombie-reaper-watch-metrics.service --no-pager -o cat | tail -5")
    watch = series(host, published)
    assert watch["zombie_reaper_watch_exit_events"] == "0"  # a container: full scans alone
    assert not [name for name in watch if not name.startswith("zombie_reaper_watch_")]  # none of the runs' series
    # Rewritten (a full scan every 10 s, a copy at most every 15 s) and moved in by the root step each time.
    assert node.wait_until(
        lambda: int(series(host, published).get("zombie_reaper_watch_full_scans_total", 0)) > int(first), timeout=90)
    assert host.file(published).user == "root" and host.file(published).mode == 0o644
    # Moved, not copied (a new copy may be on its way: gone again within moments).
    assert node.wait_until(lambda: not host.file("/var/lib/zombie-reaper/zombie_reaper_watch.prom").exists, timeout=30)
    result = host.check_output("systemctl show -p Result --value zombie-reaper-watch-metrics.service")
    assert result == "success"


def test_reload_reads_the_options_again_and_stop_ends_it_cleanly(host):
    host.run_test("systemctl reload %s" % UNIT)
    assert node.wait_until(lambda: "watch: options read again" in journal(host), timeout=30)
    host.run_test("systemctl stop %s" % UNIT)
    assert "watch: stopped (periodic scans only;" in journal(host)
    assert host.check_output("systemctl show -p Result --value %s" % UNIT) == "success"
    host.run_test("systemctl start %s" % UNIT)
    assert host.service(UNIT).is_running
