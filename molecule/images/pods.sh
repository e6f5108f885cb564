#!/usr/bin/env bash
# The images the containerd_* scenarios' pods run, as OCI archives that `ctr -n k8s.io images import` takes
# inside the node (molecule mounts .cache/oci there read-only; no registry is reachable):
#   pause.tar    localhost/fleetops-pause:1, the pod sandbox image: molecule/images/pause.c, static
#   tenant.tar   localhost/fleetops-node:cron, the tenants' image (python3, sshd; molecule/resources/files/tenant.py)
# Each archive is rebuilt only when its recipe (this script, pause.c, the tenant image's id) changes.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/molecule/containers.conf}
OUT=.cache/oci
mkdir -p "$OUT"

fresh() {  # fresh ARCHIVE RECIPE: the archive exists and was made from this recipe
    [ -f "$1" ] && [ "$(cat "$1.recipe" 2>/dev/null)" = "$2" ]
}

pause_recipe=$(cat "$0" molecule/images/pause.c | sha256sum | cut -c1-16)
if ! fresh "$OUT/pause.tar" "$pause_recipe"; then
    root=$(mktemp -d /var/tmp/fleetops-pause.XXXXXX)
    trap 'rm -rf "$root"' EXIT
    gcc -static -Os -s -o "$root/pause" molecule/images/pause.c
    tar -C "$root" --numeric-owner --owner=0 --group=0 -c pause | podman import --quiet \
        --change 'ENTRYPOINT ["/pause"]' --change "LABEL fleetops.recipe=$pause_recipe" - localhost/fleetops-pause:1 >/dev/null
    rm -f "$OUT/pause.tar"
    podman save --quiet --format oci-archive -o "$OUT/pause.tar" localhost/fleetops-pause:1
    echo "$pause_recipe" > "$OUT/pause.tar.recipe"
    echo "images: built $OUT/pause.tar"
fi

tenant_recipe=$( { cat "$0"; podman image inspect --format '{{ .Id }}' localhost/fleetops-node:cron; } | sha256sum | cut -c1-16)
if ! fresh "$OUT/tenant.tar" "$tenant_recipe"; then
    rm -f "$OUT/tenant.tar"
    podman save --quiet --format oci-archive -o "$OUT/tenant.tar" localhost/fleetops-node:cron
    echo "$tenant_recipe" > "$OUT/tenant.tar.recipe"
    echo "images: saved $OUT/tenant.tar"
fi
echo "images: pod images are up to date"
