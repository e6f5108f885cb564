#!/usr/bin/env bash
# Watch mode acting, timed: bench/watch_latency.py in an x86_64 guest (its kernel's initial PID namespace is
# the guest's, where the daemon may act; this machine's own table is never touched). The guest is an amd64
# Debian 12 root (scripts/guest-root.sh) booted whole as an initramfs: no disk, no network.
# Emulated (TCG) by default: this kind of machine's /dev/kvm is PVM (kvm_pvm), which boots only kernels built
# as PVM guests, and Debian's is not (it hangs after decompression). Emulation slows the daemon, so the times
# it gives are upper bounds; GUEST_ACCEL=kvm where a stock kernel boots under KVM.
# Prints the driver's JSON lines; exits non-zero when the guest gave no result.
#
# Usage: bench/guest.sh [watch_latency.py arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=/var/cache/fleetops-x86_64
WORK=${GUEST_WORK:-/var/tmp/fleetops-x86_64}
TIMEOUT=${GUEST_TIMEOUT:-1200}
ACCEL=${GUEST_ACCEL:-tcg}
root=$(scripts/guest-root.sh amd64 python3,procps,linux-image-amd64 "$CACHE")
stage=$WORK/stage
rm -rf "$stage" && mkdir -p "$stage/opt/fleetops"
cp -r plugins/module_utils "$stage/opt/fleetops/"
cp bench/watch_latency.py "$stage/opt/fleetops/"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
gcc -static -O2 -Wall -Wextra -Werror -o "$stage/opt/fleetops/exits" bench/exits.c
printf '%q ' "$@" > "$stage/opt/fleetops/args"
cat > "$stage/init" <<'INIT'
#!/bin/sh
# PID 1 of the guest: the driver, then power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root PYTHONDONTWRITEBYTECODE=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
ldconfig
echo "guest: $(uname -m), kernel $(uname -r), $(nproc) cpus, $(python3 --version)"
cd /opt/fleetops
eval "set -- $(cat args)"
python3 watch_latency.py /opt/fleetops/exits /opt/fleetops/module_utils "$@"
echo o > /proc/sysrq-trigger
sleep 30
INIT
chmod 0755 "$stage/init"
(cd "$stage" && find . | cpio -o -H newc --quiet) > "$WORK/stage.cpio"
cat "$root/root.cpio" "$WORK/stage.cpio" > "$WORK/initrd.cpio"
echo "guest: booting $(basename "$root")/vmlinuz ($ACCEL; console: $WORK/console.log)" >&2
# -arch-capabilities: under nested KVM qemu asserts on setting that MSR (0x10a).
timeout "$TIMEOUT" qemu-system-x86_64 -accel "$ACCEL" -cpu max,-arch-capabilities -smp 2 -m 3072 \
    -nographic -no-reboot -nic none -kernel "$root/vmlinuz" -initrd "$WORK/initrd.cpio" \
    -append "rdinit=/init console=ttyS0 quiet panic=-1" < /dev/null 2>&1 \
    | sed -u 's/\r$//' > "$WORK/console.log" || true
grep -q '^latency-done$' "$WORK/console.log" || {
    echo "guest: no result (crash or timeout after ${TIMEOUT}s); see $WORK/console.log" >&2; tail -30 "$WORK/console.log" >&2; exit 1; }
grep '^{' "$WORK/console.log"
