#!/usr/bin/env bash
# `make demo`: a local "fleet" of three podman worker nodes (booted systemd, no network), one of
# them running the provider guide's leaking tenant. Audit, deploy the role with REAP on, let the
# timer's service run, audit again, print the fleet before and after, tear everything down.
# Safe to interrupt: the containers are removed on exit, and leftovers of an interrupted run are
# removed at the start of the next one.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/molecule/containers.conf}
export PATH=$ROOT/.venv/bin:$PATH ANSIBLE_CONFIG=$ROOT/ansible.cfg ANSIBLE_DEPRECATION_WARNINGS=0 \
    ANSIBLE_HOST_KEY_CHECKING=0
NODES=(fleetops-demo-node1 fleetops-demo-node2 fleetops-demo-node3)
LEAKY=fleetops-demo-node2
LABEL=fleetops-demo
WORK=""
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

teardown() {
    # shellcheck disable=SC2046
    podman rm -f -t 0 $(podman ps -aq --filter "label=$LABEL") >/dev/null 2>&1 || true
    if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
}
trap teardown EXIT
teardown  # leftovers of an interrupted run
WORK=$(mktemp -d)

say "Node image (debootstrap + podman import, cached)"
molecule/images/build.sh systemd

say "Starting the fleet: ${NODES[*]}"
for name in "${NODES[@]}"; do
    podman run -d --name "$name" --hostname "$name" --label "$LABEL=1" --privileged --network none \
        --systemd always localhost/fleetops-node:systemd /sbin/init >/dev/null
done
for name in "${NODES[@]}"; do
    podman exec "$name" systemctl is-system-running --wait >/dev/null || true
done

say "$LEAKY runs a tenant whose entrypoint tried 30 times to start an sshd that fails, never reaping it"
podman cp molecule/resources/files/tenant.py "$LEAKY:/usr/local/lib/tenant.py"
podman exec "$LEAKY" setsid -f unshare --pid --fork --mount-proc \
    /usr/bin/python3 /usr/local/lib/tenant.py burst 30 leaky-tenant
sleep 5
tenant_before=$(podman exec "$LEAKY" pgrep -f -n 'python3 /usr/local/lib/tenant.py')
podman exec "$LEAKY" ps -eo pid,ppid,stat,comm --forest | grep -E 'PID|python3|sshd' | head -n 8
echo "    ... ($(podman exec "$LEAKY" ps -eo stat= | grep -c '^Z') zombies in all)"

cat > "$WORK/inventory.ini" <<EOF
[workers]
$(printf '%s\n' "${NODES[@]}")

[workers:vars]
ansible_connection=containers.podman.podman
ansible_python_interpreter=/usr/bin/python3
# the podman connection is root already, and the node image has no sudo
ansible_become=false
EOF
# Run a playbook, keep its output in $WORK/LOG; on failure show the end of it and stop.
playbook() {
    local log=$1
    shift
    if ! ansible-playbook -i "$WORK/inventory.ini" "$@" > "$WORK/$log" 2>&1; then
        tail -n 40 "$WORK/$log"
        echo "demo: ansible-playbook $* failed" >&2
        exit 1
    fi
}
# The fleet table that playbooks/audit.yml prints (its one list-valued msg).
audit_table() {
    ANSIBLE_STDOUT_CALLBACK=json playbook "$1" playbooks/audit.yml
    .venv/bin/python - "$WORK/$1" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
for play in report["plays"]:
    for task in play["tasks"]:
        for result in task["hosts"].values():
            if isinstance(result.get("msg"), list):
                print("\n".join(result["msg"]))
                raise SystemExit
raise SystemExit("demo: no fleet table in the audit output")
PY
}

say "Audit before (playbooks/audit.yml)"
audit_table audit-before.json | tee "$WORK/before.txt"

say "Deploy (playbooks/deploy.yml: a canary, then batches) with the defaults: REAP on"
playbook deploy.log playbooks/deploy.yml -e zombie_reaper_reap_min_age_seconds=1
sed -n '/PLAY RECAP/,$p' "$WORK/deploy.log" | grep -E 'fleetops-demo-node[0-9]+ *:'

say "The timer's service runs on every node (started now instead of waiting for the timer)"
for name in "${NODES[@]}"; do
    podman exec "$name" systemctl start zombie-reaper.service
    printf '%s: zombie-reaper.service %s\n' "$name" \
        "$(podman exec "$name" systemctl show -p Result --value zombie-reaper.service)"
done

say "Audit after"
audit_table audit-after.json | tee "$WORK/after.txt"

tenant_after=$(podman exec "$LEAKY" pgrep -f -n 'python3 /usr/local/lib/tenant.py' || echo gone)
say "Fleet before and after"
printf 'BEFORE\n'; cat "$WORK/before.txt"
printf 'AFTER\n'; cat "$WORK/after.txt"
printf '\nThe tenant on %s: pid %s before, pid %s after (REAP reaps in place: no restart).\n' \
    "$LEAKY" "$tenant_before" "$tenant_after"
# The last run that acted (a later timer run may have found nothing left to do).
podman exec "$LEAKY" cat /var/log/zombie-reaper/reaper.log | .venv/bin/python -c '
import json, sys
reports = [json.loads(line) for line in sys.stdin if line.strip()]
acted = [r for r in reports if any(p["action"] != "none" for p in r["parents"])]
if not acted:
    print("No run on '"$LEAKY"' acted (%d runs logged)." % len(reports))
    raise SystemExit(0)
report = acted[-1]
print("The last run on '"$LEAKY"' that acted (%s, run %d of %d logged):" % (report["time"], reports.index(report) + 1, len(reports)))
for parent in report["parents"]:
    print("  pid %d (%s) %s: %s, %d zombies reaped in place, %d signals" % (
        parent["pid"], parent["comm"], parent["class"], parent["outcome"],
        parent["zombies_reaped_in_place"], len([s for s in parent["signals"] if s.get("result") == "sent"])))'
say "Tearing the fleet down"
