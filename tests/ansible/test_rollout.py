"""deploy.yml and remove.yml on a small inventory of staged roots on this machine (no service is touched): a node
that fails, one that cannot be reached, a rollout that stops, and one table of every host in each case."""

import json
import subprocess
import sys

import pytest

from conftest import ROOT, ansible_env

# The order of the inventory is the order of the rollout.
HOSTS = ("good1", "bad", "gone", "good2")


def write_inventory(tmp_path):
    hosts = {}
    for name in HOSTS:
        if name == "gone":  # nothing listens on port 1 of the loopback: unreachable at once
            hosts[name] = {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1,
                           "ansible_ssh_common_args": "-o ConnectTimeout=5 -o StrictHostKeyChecking=no"}
            continue
        hosts[name] = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                       "zombie_reaper_root_prefix": str(tmp_path / name), "zombie_reaper_scheduler": "cron"}
    hosts["bad"]["zombie_reaper_interval_minutes"] = 0  # the role refuses it
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"children": {"workers": {"hosts": hosts}}}}))
    return inventory


def run(tmp_path, name, *extra):
    result = subprocess.run(["ansible-playbook", "-i", str(write_inventory(tmp_path)), str(ROOT / "playbooks" / name)]
                            + list(extra), cwd=ROOT, env=dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_SHOW_CUSTOM_STATS="1"),
                            capture_output=True, text=True, timeout=600, check=False)
    report = json.loads(result.stdout)
    table = [task["hosts"][host]["msg"] for play in report["plays"] for task in play["tasks"]
             if task["task"]["name"] == "Print the rollout table" for host in task["hosts"]]
    assert len(table) == 1, result.stdout[-3000:] + result.stderr[-2000:]
    rows = {line[:24].strip(): line[24:].split(None, 1) for line in table[0][1:-1]}
    stats = report["global_custom_stats"]["zombie_reaper_rollout"]
    return result.returncode, rows, table[0][-1], stats


def installed(tmp_path, name):
    return (tmp_path / name / "etc/cron.d/zombie-reaper").exists()


def test_deploy_lists_every_host_and_why_the_failed_ones_failed(tmp_path):
    code, rows, summary, stats = run(tmp_path, "deploy.yml", "-e", json.dumps({
        "zombie_reaper_serial": [1, 3], "zombie_reaper_max_fail_pct": 70}))
    assert code == 2, rows
    assert set(rows) == set(HOSTS)
    assert rows["good1"][0] == "DEPLOYED" and rows["good2"][0] == "DEPLOYED", rows
    assert rows["bad"][0] == "FAILED" and "Check the interval" in rows["bad"][1], rows
    assert "zombie_reaper_interval_minutes must be 1..1440" in rows["bad"][1], rows
    assert rows["gone"][0] == "UNREACHABLE" and "port 1" in rows["gone"][1], rows
    assert summary == "2 of 4 hosts deployed"
    assert installed(tmp_path, "good1") and installed(tmp_path, "good2") and not installed(tmp_path, "bad")
    assert stats["not_done"] == ["bad", "gone"] and stats["hosts"]["good2"]["outcome"] == "deployed"


def test_a_batch_over_the_failure_threshold_stops_the_rollout_and_the_table_names_what_was_not_reached(tmp_path):
    code, rows, summary, _stats = run(tmp_path, "deploy.yml", "-e", json.dumps({"zombie_reaper_serial": [2, 2]}))
    assert code == 2
    assert rows["good1"][0] == "DEPLOYED" and rows["bad"][0] == "FAILED", rows
    for host in ("gone", "good2"):
        assert rows[host][0] == "NOT_REACHED", rows
        assert "the rollout stopped: bad failed (1 of 2 in its batch, more than zombie_reaper_max_fail_pct 0%)" in \
            rows[host][1], rows
    assert not installed(tmp_path, "good2")  # the batch after the stop is not touched
    assert summary == "1 of 4 hosts deployed"


@pytest.mark.parametrize("value", ["-1", "101", "half", "5.5"])
def test_a_failure_threshold_that_is_not_a_percentage_is_refused_before_any_node(tmp_path, value):
    result = subprocess.run(["ansible-playbook", "-i", str(write_inventory(tmp_path)), str(ROOT / "playbooks/deploy.yml"),
                             "-e", "zombie_reaper_max_fail_pct=" + value], cwd=ROOT, env=ansible_env(),
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode != 0 and "zombie_reaper_max_fail_pct must be a whole percentage" in result.stdout
    assert not installed(tmp_path, "good1")


def test_remove_lists_every_host_and_removes_from_those_it_reaches(tmp_path):
    code, _rows, _summary, _stats = run(tmp_path, "deploy.yml", "-e", json.dumps({"zombie_reaper_max_fail_pct": 100,
                                                                                  "zombie_reaper_serial": [4]}))
    assert code == 2 and installed(tmp_path, "good1") and installed(tmp_path, "good2")
    code, rows, summary, _stats = run(tmp_path, "remove.yml")
    assert code == 2
    assert [rows[host][0] for host in HOSTS] == ["REMOVED", "REMOVED", "UNREACHABLE", "REMOVED"], rows
    assert summary == "3 of 4 hosts removed"
    assert not installed(tmp_path, "good1") and not installed(tmp_path, "good2")
