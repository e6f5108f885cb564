#!/usr/bin/env bash
# Install everything `make test` and `make demo` need on a fresh Debian 12 machine:
# Debian packages (only those missing), a project venv with pinned Python tools, and the
# .collections link that makes this checkout resolve as fleetops.zombie_reaper.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

APT_PACKAGES=(util-linux procps git rsync gcc libc6-dev python3-venv logrotate shellcheck systemd strace openssh-client
             hyperfine time podman runc debootstrap
             lib32gcc-12-dev libc6-dev-i386  # a 32-bit parent for the REAP tests (gcc -m32)
             # the REAP tests on aarch64: an emulated arm64 machine and 64- and 32-bit cross compilers
             qemu-system-arm cpio gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf
             libc6-dev-armhf-cross
             qemu-system-x86)  # make bench: watch mode acting, timed, in an x86_64 guest (bench/guest.sh)
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

# Single binaries from Debian packages, unpacked into the venv so that no daemon is installed or started on
# this machine: promtool (prometheus) for the alert rules' tests; crontab (cron), which ansible.builtin.cron
# requires on PATH even when it only edits the role's /etc/cron.d file in a staged root.
unpack_binary() {
    local package=$1 path=$2 debs
    [ -x "$VENV/bin/$(basename "$path")" ] && return
    echo "setup: unpacking $path from Debian's $package package"
    debs=$(mktemp -d)
    chmod 0755 "$debs"  # apt downloads as _apt where it can
    (cd "$debs" && { apt-get download -qq "$package" 2>/dev/null || { $SUDO apt-get update -qq && apt-get download -qq "$package"; }; })
    dpkg-deb --fsys-tarfile "$debs/${package}"_*.deb | tar -x -C "$debs" ".$path"
    install -m 0755 "$debs$path" "$VENV/bin/$(basename "$path")"
    rm -rf "$debs"
}
unpack_binary prometheus /usr/bin/promtool
command -v crontab >/dev/null || unpack_binary cron /usr/bin/crontab

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
