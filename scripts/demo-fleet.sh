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

say "$LEAKY runs a tenant whose entrypoint keeps starting an sshd that fails and never reaps it"
podman cp molecule/resources/files/tenant.py "$LEAKY:/usr/local/lib/tenant.py"
podman exec "$LEAKY" setsid -f unshare --pid --fork --mount-proc \
    /usr/bin/python3 /usr/local/lib/tenant.py leaky 0.5 leaky-tenant
sleep 6
tenant_before=$(podman exec "$LEAKY" pgrep -f -n 'python3 /usr/local/lib/tenant.py')
podman exec "$LEAKY" ps -eo pid,ppid,stat,comm --forest | grep -E 'PID|python3|sshd'

cat > "$WORK/inventory.ini" <<EOF
[workers]
$(printf '%s\n' "${NODES[@]}")

[workers:vars]
ansible_connection=containers.podman.podman
ansible_python_interpreter=/usr/bin/python3
EOF
playbook() { ansible-playbook -i "$WORK/inventory.ini" "$@"; }
table() { sed -n '/"msg": \[/,/\]/p' | sed -e '1d' -e '$d' -e 's/^ *"//' -e 's/",\?$//'; }

say "Audit before (playbooks/audit.yml)"
playbook playbooks/audit.yml | table | tee "$WORK/before.txt"

say "Deploy (playbooks/deploy.yml: a canary, then batches) with the REAP rung on"
playbook playbooks/deploy.yml -e zombie_reaper_reap=true -e zombie_reaper_reap_min_age_seconds=1 \
    | grep -E '^(PLAY|TASK \[fleetops|fleetops-demo|ok:|changed:)' | grep -E 'PLAY RECAP|fleetops-demo-node[0-9] *:' || true

say "The timer's service runs on every node (started now instead of waiting for the timer)"
for name in "${NODES[@]}"; do
    podman exec "$name" systemctl start zombie-reaper.service || true
    printf '%s: %s\n' "$name" "$(podman exec "$name" systemctl show -p Result --value zombie-reaper.service)"
done

say "Audit after"
playbook playbooks/audit.yml | table | tee "$WORK/after.txt"

tenant_after=$(podman exec "$LEAKY" pgrep -f -n 'python3 /usr/local/lib/tenant.py' || echo gone)
say "Fleet before and after"
printf 'BEFORE\n'; cat "$WORK/before.txt"
printf 'AFTER\n'; cat "$WORK/after.txt"
printf '\nThe tenant on %s: pid %s before, pid %s after (REAP reaps in place: no restart).\n' \
    "$LEAKY" "$tenant_before" "$tenant_after"
printf 'Last run on %s: ' "$LEAKY"
podman exec "$LEAKY" tail -n 1 /var/log/zombie-reaper/reaper.log | .venv/bin/python -c '
import json, sys
report = json.load(sys.stdin)
for parent in report["parents"]:
    print("pid %d (%s) %s: %s, %d zombies reaped in place, %d signals" % (
        parent["pid"], parent["comm"], parent["class"], parent["outcome"],
        parent["zombies_reaped_in_place"], len([s for s in parent["signals"] if s.get("result") == "sent"])))'
say "Tearing the fleet down"
