#!/usr/bin/env bash
# The execution environment AWX / Automation Platform would run this collection's playbooks in, built here with
# no registry: ansible-builder 3 on a base image of our own.
#   1. localhost/fleetops-node:ee: a Debian 12 root from debootstrap with pip and socat (molecule/images/build.sh).
#   2. localhost/fleetops-ee-base: that root plus ansible-core and ansible-runner (and what ansible-builder's own
#      steps pip-install: bindep, PyYAML, packaging, dumb-init), from wheels made here into the build context and
#      installed with --no-index (a build container does not see this machine's pip settings); PIP_NO_INDEX stays
#      set, so a later step that would reach for an index fails instead.
#   3. localhost/fleetops-zombie-reaper-ee: ansible-builder build of scripts/execution-environment.yml with this
#      collection's tarball, every podman build step with --network none.
# Each image carries its recipe's sha256 as a label and is rebuilt only when that changes.
# Usage: scripts/ee.sh     (prints the EE image's name last)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/molecule/containers.conf}
BIN=${BIN:-$ROOT/.venv/bin}
WORK=$ROOT/.cache/ee
# the controller's own versions (requirements-dev.txt), so the EE runs what the bare controller runs
CORE=$(sed -n 's/^ansible-core==//p' requirements-dev.txt)
RUNNER=$(sed -n 's/^ansible-runner==//p' requirements-dev.txt)
WHEELS=("ansible-core==$CORE" "ansible-runner==$RUNNER" bindep pyyaml packaging dumb-init==1.2.5)
EE=localhost/fleetops-zombie-reaper-ee:latest

label_of() { podman image inspect --format '{{ index .Labels "fleetops.recipe" }}' "$1" 2>/dev/null || true; }

mkdir -p "$WORK"
molecule/images/build.sh ee >&2
root_recipe=$(label_of localhost/fleetops-node:ee)

base_recipe=$( { echo "$root_recipe ${WHEELS[*]}"; cat "$0"; } | sha256sum | cut -c1-16)
if [ "$(label_of localhost/fleetops-ee-base:latest)" != "$base_recipe" ]; then
    echo "ee: building localhost/fleetops-ee-base ($base_recipe): ${WHEELS[*]}"
    rm -rf "$WORK/base" && mkdir -p "$WORK/base/wheels"
    "$BIN/pip" wheel --quiet --disable-pip-version-check -w "$WORK/base/wheels" "${WHEELS[@]}" 2>&1 \
        | { grep -v '^WARNING: Location' || true; }
    cat > "$WORK/base/Containerfile" <<EOF
FROM localhost/fleetops-node:ee
COPY wheels/ /tmp/wheels/
RUN python3 -m pip install --no-index --find-links /tmp/wheels --break-system-packages --no-cache-dir \\
        --root-user-action=ignore ${WHEELS[*]} && rm -rf /tmp/wheels
ENV PIP_NO_INDEX=1 PIP_BREAK_SYSTEM_PACKAGES=1
LABEL fleetops.recipe=$base_recipe
EOF
    podman build --quiet --network none -t localhost/fleetops-ee-base:latest "$WORK/base" >/dev/null
fi

# The collection as Galaxy would ship it; the EE is rebuilt whenever its tarball's contents change.
rm -rf "$WORK/collection" && mkdir -p "$WORK/collection"
"$BIN/ansible-galaxy" collection build --force --output-path "$WORK/collection" . >/dev/null
tarball=$(ls "$WORK"/collection/fleetops-zombie_reaper-*.tar.gz)
contents=$(tar -xzOf "$tarball" | sha256sum | cut -c1-16)
ee_recipe=$( { echo "$base_recipe $contents"; cat scripts/execution-environment.yml; } | sha256sum | cut -c1-16)
if [ "$(label_of "$EE")" != "$ee_recipe" ]; then
    echo "ee: building $EE ($ee_recipe) with ansible-builder"
    rm -rf "$WORK/context" "$WORK/definition" && mkdir -p "$WORK/definition"
    cp scripts/execution-environment.yml "$WORK/definition/"
    cp "$tarball" "$WORK/definition/fleetops-zombie_reaper.tar.gz"
    "$BIN/ansible-builder" build --container-runtime podman -f "$WORK/definition/execution-environment.yml" \
        -c "$WORK/context" -t "$EE" \
        --extra-build-cli-args "--network none --label fleetops.recipe=$ee_recipe" > "$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; exit 1; }
fi
echo "$EE"
