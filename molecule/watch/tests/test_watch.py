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


def test_reload_reads_the_options_again_and_stop_ends_it_cleanly(host):
    host.run_test("systemctl reload %s" % UNIT)
    assert node.wait_until(lambda: "watch: options read again" in journal(host), timeout=30)
    host.run_test("systemctl stop %s" % UNIT)
    assert "watch: stopped (periodic scans only;" in journal(host)
    assert host.check_output("systemctl show -p Result --value %s" % UNIT) == "success"
    host.run_test("systemctl start %s" % UNIT)
    assert host.service(UNIT).is_running
