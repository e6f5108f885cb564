#!/usr/bin/env bash
# Install everything `make test` and `make demo` need on a fresh Debian 12 machine:
# Debian packages (only those missing), a project venv with pinned Python tools, and the
# .collections link that makes this checkout resolve as fleetops.zombie_reaper.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

APT_PACKAGES=(util-linux procps git rsync gcc libc6-dev python3-venv logrotate shellcheck systemd strace
             hyperfine time podman runc debootstrap
             lib32gcc-12-dev libc6-dev-i386  # a 32-bit parent for the REAP tests (gcc -m32)
             # the REAP tests on aarch64: an emulated arm64 machine and 64- and 32-bit cross compilers
             qemu-system-arm cpio gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf
             libc6-dev-armhf-cross)
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Runtimes the REAP tests use as container inits: installed only when the command is missing
# (a machine may carry its own Node.js or JDK).
for pair in node:nodejs java:openjdk-17-jdk-headless go:golang-go; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp="$VENV/.requirements.sha"
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: creating $VENV with requirements-dev.txt"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -r requirements-dev.txt
    echo "$want" > "$stamp"
fi

# promtool (Debian's prometheus package) for the alert rules' tests: only the binary, unpacked into the
# venv, so that no Prometheus server is installed or started on this machine.
if [ ! -x "$VENV/bin/promtool" ]; then
    echo "setup: unpacking promtool from Debian's prometheus package"
    debs=$(mktemp -d)
    chmod 0755 "$debs"  # apt downloads as _apt where it can
    (cd "$debs" && { apt-get download -qq prometheus 2>/dev/null || { $SUDO apt-get update -qq && apt-get download -qq prometheus; }; })
    dpkg-deb --fsys-tarfile "$debs"/prometheus_*.deb | tar -x -C "$debs" ./usr/bin/promtool
    install -m 0755 "$debs/usr/bin/promtool" "$VENV/bin/promtool"
    rm -rf "$debs"
fi

mkdir -p .collections/ansible_collections/fleetops
ln -sfn ../../.. .collections/ansible_collections/fleetops/zombie_reaper

# ansible-test downloads a get-pip script from a host we cannot reach; give it the offline
# stand-in under the cache name it looks for (named after the pip version it pins).
pip_version=$("$VENV/bin/python" - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._internal.host_configs import NativePythonConfig
print(get_venv_packages(NativePythonConfig(version="3.11", path="/usr/bin/python3"))["pip"])
PY
) || pip_version=""
if [ -n "$pip_version" ]; then
    mkdir -p ~/.ansible/test/cache
    install -m 0644 scripts/get_pip_offline.py ~/.ansible/test/cache/get_pip_"${pip_version//./_}".py
fi
