"""make fleet-bench's smoke: a six-node fleet of scripts/fleet.sh, reached over SSH (sshd -i through podman
exec, no network), audited and reaped by the playbooks. Every node and tenant is the test's own container."""

import json
import re
import shutil
import subprocess
import sys

import ansible_runner
import pytest

from conftest import ROOT, ansible_env, patience, wait_until

INVENTORY = ROOT / ".cache" / "fleet" / "inventory.ini"
FLEET = ROOT / "scripts" / "fleet.sh"
GATEWAY = ROOT / "scripts" / "fleet_gateway.py"


def node(number):
    return "fleet-node-%03d" % number


def on_node(number, command):
    return subprocess.run(["podman", "exec", node(number), "sh", "-c", command], capture_output=True, text=True,
                          timeout=patience(60), check=True).stdout


def zombies_on(number):
    return int(on_node(number, "ps -eo stat= | grep -c '^Z' || true").strip())


def playbook(name, *extra, table_task="Print the fleet table"):
    result = subprocess.run(["ansible-playbook", "-i", str(INVENTORY), str(ROOT / "playbooks" / name)] + list(extra),
                            cwd=ROOT, env=ansible_env(), capture_output=True, text=True, timeout=patience(600), check=False)
    report = json.loads(result.stdout)
    table = [task["hosts"][host]["msg"] for play in report["plays"] for task in play["tasks"]
             if task["task"]["name"] == table_task for host in task["hosts"]]
    assert len(table) == 1, result.stdout[-3000:] + result.stderr[-2000:]
    rows = {line[:24].strip(): line[24:].strip() for line in table[0][1:]}
    return result.returncode, rows, report


@pytest.fixture(scope="module")
def fleet():
    subprocess.run([str(FLEET), "up", "6"], cwd=ROOT, check=True, timeout=patience(900))
    yield
    subprocess.run([str(FLEET), "down"], cwd=ROOT, check=True, timeout=patience(300))


def test_audit_reads_the_working_nodes_and_names_why_each_broken_one_failed(fleet):
    code, rows, report = playbook("audit.yml")
    assert code != 0  # the broken nodes fail, after the table
    assert set(rows) == {node(i) for i in range(1, 7)}, rows
    numbers = {name: row.split() for name, row in rows.items()}
    assert numbers[node(1)][0] == "20" and "eligible=1" in rows[node(1)], rows    # burst: 20 [sshd] <defunct>
    assert numbers[node(2)][0] == "3" and "eligible=1" in rows[node(2)], rows     # app PID 1, 3 probe orphans
    assert numbers[node(3)][0] == "2" and "protected=1" in rows[node(3)], rows    # containerd's shim: never touched
    assert rows[node(4)].startswith("FAILED: ") and "hidepid=" in rows[node(4)] and "CAP_SYS_PTRACE" in rows[node(4)]
    assert rows[node(5)].startswith("FAILED: ") and "/usr/bin/python3" in rows[node(5)], rows
    assert rows[node(6)].startswith("UNREACHABLE: "), rows
    assert {host for host, stats in report["stats"].items() if stats["failures"] or stats["unreachable"]} == {
        node(4), node(5), node(6)}


def test_reap_clears_the_tenants_zombies_without_restarting_them_and_the_rest_of_the_fleet_is_done(fleet):
    burst_init = on_node(1, "pgrep -f -o 'tenant.py burst'").strip()
    app_init = on_node(2, "pgrep -f -n '^/usr/bin/python3 /usr/local/lib/tenant.py app'").strip()
    code, rows, _report = playbook("reap.yml", "-e", '{"reap_serial": [1, 5], "reap_args": {"confirm_seconds": 1}}')
    assert code != 0
    assert zombies_on(1) == 0 and zombies_on(2) == 0, rows
    assert on_node(1, "pgrep -f -o 'tenant.py burst'").strip() == burst_init  # the same tenants, not restarted
    assert on_node(2, "pgrep -f -n '^/usr/bin/python3 /usr/local/lib/tenant.py app'").strip() == app_init
    assert zombies_on(3) == 2 and "protected=1" in rows[node(3)], rows
    assert "reaped=1" in rows[node(1)] and "reaped=1" in rows[node(2)], rows
    assert rows[node(4)].startswith("FAILED: ") and rows[node(6)].startswith("UNREACHABLE: "), rows


def audit_through_ansible_runner(private_data_dir):
    """The checkout's audit playbook run by ansible-runner on this controller (no container)."""
    return ansible_runner.run(private_data_dir=str(private_data_dir), project_dir=str(ROOT),
                              playbook="playbooks/audit.yml", inventory=str(INVENTORY),
                              envvars={"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}, quiet=True, timeout=patience(600))


def test_audit_as_awx_runs_it_through_ansible_runner_hands_the_fleet_to_the_workflow(fleet, tmp_path):
    """AWX and Automation Platform run a job through ansible-runner (its event stream, its display callback) and
    read the playbook's set_stats from the stats event: the same audit, read that way."""
    run = audit_through_ansible_runner(tmp_path)
    assert run.status == "failed" and run.rc == 2  # the broken nodes fail, after the table
    events = list(run.events)
    table = [e["event_data"]["res"]["msg"] for e in events
             if e["event"] == "runner_on_ok" and e["event_data"].get("task") == "Print the fleet table"]
    assert len(table) == 1 and table[0][0].startswith("HOST "), table
    summary = fleet_summary(run)
    assert summary["failed_hosts"] == [node(4), node(5), node(6)], summary
    assert summary["hosts"][node(3)]["zombies"] == 2 and summary["hosts"][node(3)]["outcomes"] == {"protected": 1}
    assert "hidepid=" in summary["hosts"][node(4)]["msg"]


def fleet_summary(run):
    """The fleet summary an audit or reap through ansible-runner handed to set_stats, as AWX reads it."""
    stats = [e["event_data"].get("artifact_data", {}) for e in run.events if e["event"] == "playbook_on_stats"]
    assert len(stats) == 1 and "zombie_reaper_fleet" in stats[0], (run.status, run.stdout.read()[-3000:])
    return stats[0]["zombie_reaper_fleet"]


@pytest.fixture(scope="module")
def ee_image():
    """The execution environment scripts/ee.sh builds (ansible-builder on a base made here: no registry, no
    network), rebuilt only when its recipe or the collection changed."""
    built = subprocess.run([str(ROOT / "scripts" / "ee.sh")], cwd=ROOT, capture_output=True, text=True,
                           timeout=patience(900), check=False)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return built.stdout.split()[-1]


def run_in_ee(image, work, playbook_name, extravars=None):
    """The collection's playbook, by name, run by ansible-runner in the EE as AWX runs a job (process isolation,
    podman, --network=none); the nodes reached through scripts/fleet_gateway.py's Unix sockets (no network)."""
    gateway_dir = work / "gateway"
    gateway_dir.mkdir(parents=True)
    shutil.copy(INVENTORY.parent / "id_ed25519", gateway_dir / "id_ed25519")
    inventory = INVENTORY.read_text()
    inventory = re.sub(r"^ansible_ssh_private_key_file=.*$", "ansible_ssh_private_key_file=/gateway/id_ed25519",
                       inventory, flags=re.M)
    inventory = re.sub(r'ProxyCommand="[^"]*"', 'ProxyCommand="socat STDIO UNIX-CONNECT:/gateway/%h.sock"',
                       inventory)
    assert "socat STDIO" in inventory and "podman exec" not in inventory.split("[workers]")[1], inventory
    private = work / "runner"
    (private / "inventory").mkdir(parents=True)
    (private / "inventory" / "hosts").write_text(inventory)
    gateway = subprocess.Popen([sys.executable, str(GATEWAY), str(gateway_dir)] + [node(i) for i in range(1, 7)])
    try:
        assert wait_until((gateway_dir / (node(6) + ".sock")).exists, 30)
        return ansible_runner.run(
            private_data_dir=str(private), playbook="fleetops.zombie_reaper." + playbook_name, extravars=extravars,
            quiet=True, process_isolation=True, process_isolation_executable="podman", container_image=image,
            container_volume_mounts=["%s:/gateway" % gateway_dir], container_options=["--network=none", "--user=root"],
            timeout=patience(600))
    finally:
        gateway.terminate()
        gateway.wait(timeout=patience(30))


def test_audit_in_the_execution_environment_hands_awx_the_bare_controllers_fleet(fleet, ee_image, tmp_path):
    """The audit, run in the EE, gives the summary the same audit gives from the bare controller."""
    (tmp_path / "bare").mkdir()
    bare = fleet_summary(audit_through_ansible_runner(tmp_path / "bare"))
    run = run_in_ee(ee_image, tmp_path / "ee", "audit")
    assert run.status == "failed" and run.rc == 2, run.stdout.read()[-3000:]  # the broken nodes, after the table
    inside = fleet_summary(run)
    for summary in (inside, bare):  # the one figure that moves between two audits: a node's PIDs in use now
        for host in summary["hosts"].values():
            host.pop("pids_used_percent", None)
    assert inside == bare, (inside, bare)
    assert inside["failed_hosts"] == [node(4), node(5), node(6)] and inside["hosts"][node(3)]["zombies"] == 2


def test_reap_in_the_execution_environment_clears_a_new_burst_as_the_bare_controller_did(fleet, ee_image, tmp_path):
    """The reap test above cleared node 1; a second tenant there leaves 20 new zombies, and reap.yml run in the EE
    clears them in place (the tenant not restarted), the rest of the fleet as from the bare controller."""
    on_node(1, "setsid -f unshare --pid --fork --mount-proc /usr/bin/python3 /usr/local/lib/tenant.py burst 20 ee")
    assert wait_until(lambda: zombies_on(1) >= 20, 30) and zombies_on(1) == 20
    tenant = on_node(1, "pgrep -f 'tenant.py burst 20 ee$'").strip()
    run = run_in_ee(ee_image, tmp_path, "reap", {"reap_serial": [1, 5], "reap_args": {"confirm_seconds": 1}})
    assert run.status == "failed" and run.rc == 2, run.stdout.read()[-3000:]
    summary = fleet_summary(run)
    assert zombies_on(1) == 0 and on_node(1, "pgrep -f 'tenant.py burst 20 ee$'").strip() == tenant, summary
    assert summary["hosts"][node(1)]["outcomes"] == {"reaped": 1}, summary
    assert summary["hosts"][node(3)]["outcomes"] == {"protected": 1} and zombies_on(3) == 2, summary
    assert summary["failed_hosts"] == [node(4), node(5), node(6)], summary


def test_deploy_then_remove_over_ssh_list_every_node_and_why_the_broken_ones_were_not_done(fleet):
    """Last: the deployed timers reap on their own."""
    code, rows, _report = playbook("deploy.yml", "-e", '{"zombie_reaper_serial": [1, 5]}', table_task="Print the rollout table")
    assert code != 0
    assert [rows[node(i)].split()[0] for i in range(1, 7)] == ["DEPLOYED"] * 4 + ["FAILED", "UNREACHABLE"], rows
    assert "preflight: no python3 on the node" in rows[node(5)], rows
    assert on_node(1, "systemctl is-active zombie-reaper.timer").strip() == "active"
    code, rows, _report = playbook("remove.yml", table_task="Print the rollout table")
    assert code != 0
    assert [rows[node(i)].split()[0] for i in range(1, 7)] == ["REMOVED"] * 4 + ["FAILED", "UNREACHABLE"], rows
    assert on_node(1, "test -e /usr/local/bin/zombie-reaper && echo left || echo gone").strip() == "gone"
