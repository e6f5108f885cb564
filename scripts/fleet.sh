#!/usr/bin/env bash
# `make fleet`: a simulated fleet of worker nodes (booted systemd podman containers of our node image) that
# Ansible reaches over SSH as real fleets are reached: key auth as root, pipelining, ControlPersist.
#
#   scripts/fleet.sh up [N]   start N nodes (default 50, at least 6) and write .cache/fleet/inventory.ini
#   scripts/fleet.sh down     remove every node of the fleet (also those of an interrupted run)
#
# No network at all: the nodes run with --network none, and ssh's ProxyCommand starts the node's own sshd
# in inetd mode (`sshd -i`) through `podman exec`, so the SSH session speaks over that pipe. Nothing listens
# on any address and nothing else can reach the nodes; ControlPersist keeps one session per node open, so
# only a node's first connection pays for the podman exec.
#
# The nodes, by number (the last three are broken on purpose, each in its own way):
#   1 mod 5  a tenant whose entrypoint tried 20 times to start an sshd that fails, never reaping it (burst)
#   2 mod 5  a healthy app as a tenant's PID 1 that adopted the orphans of 3 exec probes and never waits
#   3 mod 5  a process named like containerd's shim with 2 zombies of its own
#   4 mod 5  a tenant leaking a new [sshd] <defunct> every 20 s, still running (leaky)
#   0 mod 5  healthy: a tenant that reaps its children
#   N-2      /proc remounted hidepid=2, root there without CAP_SYS_PTRACE, a tenant running as uid 1000
#   N-1      no Python 3
#   N        stopped (unreachable)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/molecule/containers.conf}
LABEL=fleetops-fleet
IMAGE=localhost/fleetops-node:systemd
WORK=$ROOT/.cache/fleet
TENANT=/usr/local/lib/tenant.py

down() {
    # shellcheck disable=SC2046
    podman rm -f -t 0 $(podman ps -aq --filter "label=$LABEL") >/dev/null 2>&1 || true
    rm -f "$WORK/inventory.ini"
}

node_name() { printf 'fleet-node-%03d' "$1"; }

start_node() {
    local name=$1 hidepid=$2
    # The hidepid node is not privileged: podman's default capabilities have no CAP_SYS_PTRACE, and
    # CAP_SYS_ADMIN is added only so that /proc can be remounted with hidepid there.
    local privileges=(--privileged)
    if [ "$hidepid" = 1 ]; then privileges=(--cap-add SYS_ADMIN); fi
    podman run -d --name "$name" --hostname "$name" --label "$LABEL=1" "${privileges[@]}" --network none \
        --systemd always -v "$WORK/authorized_keys:/root/.ssh/authorized_keys:ro" "$IMAGE" /sbin/init >/dev/null
}

# Run tenant.py MODE ARGS... as PID 1 of a PID namespace of its own on node NAME, as a container's init is.
start_tenant() {
    local name=$1
    shift
    podman exec "$name" setsid -f unshare --pid --fork --mount-proc /usr/bin/python3 "$TENANT" "$@"
}

prepare_node() {
    local i=$1 n=$2 name
    name=$(node_name "$i")
    # "degraded" is fine (a unit of the image that does not apply in a container); a hang is not
    timeout 120 podman exec "$name" systemctl is-system-running --wait >/dev/null 2>&1 || true
    podman exec "$name" mkdir -p /run/sshd  # sshd -i's privilege separation directory
    podman cp molecule/resources/files/tenant.py "$name:$TENANT"
    if [ "$i" -eq $((n - 2)) ]; then
        podman exec "$name" mount -o remount,hidepid=2 /proc
        podman exec "$name" setsid -f setpriv --reuid 1000 --regid 1000 --clear-groups \
            /usr/bin/python3 "$TENANT" burst 5 tenant-uid-1000
        return
    fi
    if [ "$i" -eq $((n - 1)) ]; then
        podman exec "$name" sh -c 'rm -f /usr/bin/python3*'
        return
    fi
    case $((i % 5)) in
        1) start_tenant "$name" burst 20 "tenant-$i" ;;
        2) start_tenant "$name" app "tenant-$i"
           # three exec probes (`timeout` as kubelet's exec probes run it) whose parents exit at once: each
           # orphan is adopted by the app, PID 1 of their namespace, and stays <defunct> once it exits
           podman exec "$name" sh -c 'pid=$(pgrep -f -n "^/usr/bin/python3 '"$TENANT"' app") &&
               nsenter --target "$pid" --pid --mount sh -c "for i in 1 2 3; do (timeout 5 sleep 0.5 &); done"' ;;
        3) podman exec "$name" setsid -f /usr/bin/python3 "$TENANT" shim ;;
        4) start_tenant "$name" leaky 20 "tenant-$i" ;;
        0) start_tenant "$name" healthy 20 "tenant-$i" ;;
    esac
}

write_inventory() {
    local n=$1 i name proxy
    # %h is the inventory host name, which is the container's name; CONTAINERS_CONF is passed on explicitly
    # because ssh runs the ProxyCommand with the environment Ansible was started with, which may lack it.
    proxy="env CONTAINERS_CONF=$CONTAINERS_CONF podman exec -i %h /usr/sbin/sshd -i"
    {
        echo "# Written by scripts/fleet.sh up $n: the nodes are reached over SSH through 'sshd -i' in podman exec."
        echo "[workers]"
        for i in $(seq 1 "$n"); do node_name "$i"; echo; done
        echo
        echo "# the last three nodes: hidepid /proc, no Python 3, stopped (make fleet-bench times the others apart)"
        echo "[broken_on_purpose]"
        for i in $((n - 2)) $((n - 1)) "$n"; do node_name "$i"; echo; done
        echo
        echo "[workers:vars]"
        echo "ansible_user=root"
        echo "ansible_ssh_private_key_file=$WORK/id_ed25519"
        echo "ansible_ssh_common_args='-o ProxyCommand=\"$proxy\" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'"
        echo "ansible_ssh_args='-o ControlMaster=auto -o ControlPersist=300s'"
        echo "ansible_ssh_pipelining=true"
        echo "ansible_python_interpreter=/usr/bin/python3"
        echo "# root already, and the node image has no sudo"
        echo "ansible_become=false"
    } > "$WORK/inventory.ini"
}

up() {
    local n=${1:-50} i
    if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 6 ]; then
        echo "fleet: the number of nodes must be a whole number of 6 or more, got '$n'" >&2
        exit 2
    fi
    down  # what an interrupted run left
    mkdir -p "$WORK"
    if [ ! -f "$WORK/id_ed25519" ]; then
        ssh-keygen -q -t ed25519 -N '' -C fleetops-fleet -f "$WORK/id_ed25519"
    fi
    install -m 0600 "$WORK/id_ed25519.pub" "$WORK/authorized_keys"
    molecule/images/build.sh systemd
    # Each booted systemd holds inotify instances (about 6); the kernel's default of 128 for all of root's
    # processes stops the 20th node or so from booting (it exits 255 without a word).
    local instances
    instances=$(sysctl -n fs.inotify.max_user_instances)
    if [ "$instances" -lt $((n * 10 + 128)) ]; then
        echo "fleet: raising fs.inotify.max_user_instances from $instances to $((n * 10 + 128)) for $n booted nodes"
        sysctl -q -w fs.inotify.max_user_instances=$((n * 10 + 128))
    fi
    echo "fleet: starting $n nodes"
    for i in $(seq 1 "$n"); do
        start_node "$(node_name "$i")" "$([ "$i" -eq $((n - 2)) ] && echo 1 || echo 0)"
    done
    echo "fleet: booting them and starting their tenants"
    for i in $(seq 1 "$n"); do prepare_node "$i" "$n"; done
    local exited
    exited=$(podman ps -a --filter "label=$LABEL" --filter status=exited --format '{{.Names}}')
    if [ -n "$exited" ]; then
        echo "fleet: these nodes did not stay up: $exited (podman logs NAME says why)" >&2
        exit 1
    fi
    podman stop -t 0 "$(node_name "$n")" >/dev/null
    write_inventory "$n"
    echo "fleet: up, $n nodes; inventory: $WORK/inventory.ini"
}

case ${1:-} in
    up) up "${2:-50}" ;;
    down) down; echo "fleet: down" ;;
    *) echo "usage: $0 up [N] | down" >&2; exit 2 ;;
esac
