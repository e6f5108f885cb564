#!/usr/bin/env bash
# Build the local Debian 12 worker-node images used by the molecule scenarios and `make demo`
# (no registry is reachable, so they come from debootstrap + `podman import`):
#   localhost/fleetops-node:systemd   systemd as PID 1, the timer flavour
#   localhost/fleetops-node:cron      no systemd, cron, the cron flavour
#   localhost/fleetops-node:containerd  the systemd flavour plus Debian's containerd 1.6 and runc: a worker
#                                      node whose pods containerd runs (the containerd_* scenarios)
#   localhost/fleetops-node:ee        no init, plus pip and socat: the root of the execution environment
#                                      (scripts/ee.sh; only built when asked for)
# Each image carries the sha256 of its recipe as a label and is rebuilt only when that changes.
# Usage: molecule/images/build.sh [systemd|cron|containerd|ee ...]   (default: the three node flavours)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/molecule/containers.conf}
SUITE=bookworm
COMMON=python3,procps,util-linux,openssh-server,logrotate,cron
declare -A EXTRA=([systemd]="systemd,systemd-sysv,dbus" [cron]="" [containerd]="systemd,systemd-sysv,dbus,containerd,runc"
    [ee]="python3-pip,socat,ca-certificates")
# The image's CMD as a JSON array (molecule and the demo pass their own command too).
declare -A INIT=([systemd]='"/sbin/init"' [cron]='"/usr/sbin/cron", "-f"' [containerd]='"/sbin/init"' [ee]='"bash"')
CACHE=/var/cache/fleetops-debootstrap

build() {
    local flavour=$1 image="localhost/fleetops-node:$1"
    local packages="$COMMON${EXTRA[$flavour]:+,${EXTRA[$flavour]}}"
    local recipe
    recipe=$( { cat "$0"; echo "$flavour $packages ${INIT[$flavour]}"; } | sha256sum | cut -c1-16)
    if [ "$(podman image inspect --format '{{ index .Labels "fleetops.recipe" }}' "$image" 2>/dev/null)" = "$recipe" ]; then
        echo "images: $image is up to date ($recipe)"
        return
    fi
    echo "images: building $image ($recipe) from $(scripts/debian-mirror.sh)"
    local root
    root=$(mktemp -d /var/tmp/fleetops-node.XXXXXX)
    trap 'rm -rf "$root"' RETURN
    mkdir -p "$CACHE"
    debootstrap --variant=minbase --cache-dir="$CACHE" --include="$packages" "$SUITE" "$root" "$(scripts/debian-mirror.sh)" \
        > "$root.log" 2>&1 || { tail -20 "$root.log"; rm -f "$root.log"; exit 1; }
    rm -f "$root.log"
    # Hygiene inside the image: no apt lists, a machine id that systemd fills at boot.
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
    : > "$root/etc/machine-id"
    tar -C "$root" --numeric-owner -c . | podman import --quiet \
        --change "CMD [${INIT[$flavour]}]" --change "LABEL fleetops.recipe=$recipe" - "$image" >/dev/null
    echo "images: built $image"
}

flavours=("$@")
[ ${#flavours[@]} -gt 0 ] || flavours=(systemd cron containerd)
for flavour in "${flavours[@]}"; do
    [ -n "${INIT[$flavour]:-}" ] || { echo "images: unknown flavour $flavour (systemd|cron|containerd|ee)" >&2; exit 2; }
    build "$flavour"
done
