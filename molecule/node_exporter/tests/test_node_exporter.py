"""Debian's node_exporter serves the reaper's metrics, written by the role's defaults, on the package's own
textfile directory (root, 0755), which the role leaves alone."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
import node  # noqa: E402  pylint: disable=wrong-import-position

TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"
SCRAPE = "python3 -c 'import urllib.request; print(urllib.request.urlopen(\"http://127.0.0.1:9100/metrics\").read().decode())'"


def scrape(host):
    return host.check_output(SCRAPE)


def sample(text, name):
    match = re.search(r"^zombie_reaper_%s (\S+)$" % re.escape(name), text, re.M)
    return float(match.group(1)) if match else None


def ours(text):
    """Our series and their HELP and TYPE lines, as node_exporter serves them."""
    keep = []
    for line in text.splitlines():
        words = line.split(" ")
        name = words[2] if line.startswith("# ") and len(words) > 2 else line
        if name.startswith("zombie_reaper_"):
            keep.append(line)
    return "\n".join(keep) + "\n"


def test_the_role_found_the_package_directory_and_left_it_as_it_is(host):
    directory = host.file(TEXTFILE_DIR)
    assert directory.is_directory and directory.user == "root" and directory.mode == 0o755
    assert "textfile = %s/zombie_reaper.prom" % TEXTFILE_DIR in host.file("/etc/zombie-reaper/reaper.conf").content_string
    assert host.service("prometheus-node-exporter").is_running


def test_node_exporter_serves_what_the_service_did(host):
    leaky = node.wait_until(lambda: node.tenant_pid(host, "leaky-tenant"))
    assert node.wait_until(lambda: len(node.sshd_zombies(host, leaky)) >= 3)
    host.run_test("systemctl start zombie-reaper.service")
    published = host.file(TEXTFILE_DIR + "/zombie_reaper.prom")
    assert published.exists and published.user == "root" and published.mode == 0o644
    assert not host.file("/var/lib/zombie-reaper/zombie_reaper.prom").exists  # moved in, not copied
    text = scrape(host)
    assert 'node_textfile_scrape_error 0' in text
    assert sample(text, "last_run_success") == 1 and sample(text, "runs_total") == 1
    assert sample(text, "zombies_reaped_in_place_total") >= 3 and sample(text, "runs_failed_total") == 0
    # The tenant's series is keyed by its container (here the node's own podman cgroup), not by a pid.
    assert re.search(r'^zombie_reaper_container_zombies\{container="",container_id="[0-9a-f]{12}",pod="",'
                     r'pod_namespace="",runtime="podman"\} [1-9]\d*$', text, re.M), ours(text)
    promtool = shutil.which("promtool") or str(Path(sys.executable).parent / "promtool")
    lint = subprocess.run([promtool, "check", "metrics"], input=ours(text), capture_output=True, text=True,
                          check=False)
    assert lint.returncode == 0 and not (lint.stdout + lint.stderr).strip(), lint


def test_a_failed_run_reaches_node_exporter_so_the_failing_alert_can_fire(host):
    config = "/etc/zombie-reaper/reaper.conf"
    good = host.file(config).content_string
    before = scrape(host)
    host.run_test("sed -i 's/^min_zombies = .*/min_zombies = none/' %s" % config)
    try:
        result = host.run("systemctl start zombie-reaper.service")
        assert result.rc != 0  # exit 2: a bad value in the policy
        text = scrape(host)
        assert sample(text, "last_run_success") == 0 and sample(text, "runs_failed_total") == 1
        assert sample(text, "runs_total") == 1
        assert sample(text, "last_success_timestamp_seconds") == sample(before, "last_success_timestamp_seconds")
    finally:
        host.run_test("printf '%%s' %s > %s" % (quote(good), config))
        host.run("systemctl reset-failed zombie-reaper.service")
    assert host.file(config).content_string == good


def quote(text):
    return "'" + text.replace("'", "'\\''") + "'"
