#!/usr/bin/env bash
# The REAP rung's real-process tests on a real aarch64 kernel, from this x86_64 machine:
# an arm64 Debian 12 root (scripts/guest-root.sh: no arm64 code runs on the host) booted whole as an
# initramfs under qemu-system-aarch64 (software emulation, no network, no disk). Inside,
# pytest runs tests/live/test_reap_in_place.py, test_reap_crash_safety.py and, where the proc connector
# answers and nothing else runs, the acting tests of watch mode (test_connector.py, test_watch.py), with
# tests/helpers/reap_parent.c
# cross-compiled statically for aarch64 (and for 32-bit ARM). The verdict is the guest pytest's exit code.
#
# Usage: tests/aarch64/run.sh [pytest arguments]   (default: the whole file, quietly)
# The root is cached in /var/cache/fleetops-aarch64 and rebuilt when its recipe changes.
set -euo pipefail
cd "$(dirname "$0")/../.."
PACKAGES=python3,util-linux,procps,strace,linux-image-arm64
CACHE=/var/cache/fleetops-aarch64
WORK=${AARCH64_WORK:-/var/tmp/fleetops-aarch64}
TIMEOUT=${AARCH64_TIMEOUT:-2400}  # seconds for the whole guest run; software emulation is slow
PYTEST_PACKAGES=(pytest _pytest pluggy iniconfig packaging pygments py.py)

stage() {
    local stage=$WORK/stage site
    rm -rf "$stage"
    mkdir -p "$stage/opt/fleetops/plugins" "$stage/opt/pytest"
    cp -r plugins/module_utils "$stage/opt/fleetops/plugins/"
    cp -r tests pytest.ini "$stage/opt/fleetops/"
    find "$stage" -name __pycache__ -prune -exec rm -rf {} +
    site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    for package in "${PYTEST_PACKAGES[@]}"; do
        cp -r "$site/$package" "$stage/opt/pytest/"
    done
    # Their metadata too: pytest -v names plugin versions.
    for package in pytest pluggy iniconfig packaging pygments; do
        cp -r "$site/$package"-*.dist-info "$stage/opt/pytest/"
    done
    aarch64-linux-gnu-gcc -static -O2 -Wall -Werror -pthread -o "$stage/opt/fleetops/reap_parent" \
        tests/helpers/reap_parent.c
    # A 32-bit (AArch32, compat) parent, which REAP must refuse untouched.
    arm-linux-gnueabihf-gcc -static -O2 -Wall -Werror -pthread -o "$stage/opt/fleetops/reap_parent32" \
        tests/helpers/reap_parent.c
    printf '%q ' "$@" > "$stage/opt/fleetops/pytest-args"
    cat > "$stage/init" <<'INIT'
#!/bin/sh
# PID 1 of the guest: run the tests, print the verdict, power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root PYTHONPATH=/opt/pytest PYTHONDONTWRITEBYTECODE=1
# Emulated: hang guards 10x longer, large zombie counts 10x smaller (tests/conftest.py).
export FLEETOPS_TEST_SLOWDOWN=10
# The guest's kernel is its own: its initial PID namespace is the guest, where watch mode may act.
export FLEETOPS_GUEST=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
ldconfig
echo "aarch64: $(uname -m), kernel $(uname -r), $(python3 --version)"
cd /opt/fleetops
eval "set -- $(cat pytest-args)"
REAP_PARENT_BINARY=/opt/fleetops/reap_parent REAP_PARENT_BINARY_32=/opt/fleetops/reap_parent32 \
    python3 -m pytest -p no:cacheprovider --color=no -rs "$@" \
    tests/live/test_reap_in_place.py tests/live/test_reap_crash_safety.py \
    tests/live/test_connector.py tests/live/test_watch.py
echo "aarch64-verdict: $?"
echo o > /proc/sysrq-trigger
sleep 30
INIT
    chmod 0755 "$stage/init"
    (cd "$stage" && find . | cpio -o -H newc --quiet) > "$WORK/stage.cpio"
}

mkdir -p "$WORK"
root=$(scripts/guest-root.sh arm64 "$PACKAGES" "$CACHE")
stage "${@:--q}"
cat "$root/root.cpio" "$WORK/stage.cpio" > "$WORK/initrd.cpio"
echo "aarch64: booting $(basename "$root")/vmlinuz under qemu-system-aarch64 (console: $WORK/console.log)"
# -cpu max: a current Armv8/v9 core (pointer authentication, SVE...); impdef pauth keeps emulation fast.
timeout "$TIMEOUT" qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on -smp 2 -m 3072 \
    -nographic -no-reboot -nic none -kernel "$root/vmlinuz" -initrd "$WORK/initrd.cpio" \
    -append "rdinit=/init console=ttyAMA0 quiet panic=-1" < /dev/null 2>&1 \
    | sed -u 's/\r$//' | tee "$WORK/console.log" | grep -v '^\[ *[0-9.]*\]' || true
verdict=$(sed -n 's/^aarch64-verdict: \([0-9]*\)$/\1/p' "$WORK/console.log" | tail -1)
if [ -z "$verdict" ]; then
    echo "aarch64: the guest gave no verdict (crash or timeout after ${TIMEOUT}s); see $WORK/console.log" >&2
    exit 1
fi
exit "$verdict"
