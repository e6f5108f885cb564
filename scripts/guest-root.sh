#!/usr/bin/env bash
# A Debian 12 root for a qemu guest booted whole as an initramfs (no disk, no network):
# debootstrap --foreign, every package unpacked as dpkg would minus maintainer scripts (so nothing of the
# guest's architecture runs on the host and no binfmt is needed), of the kernel package only its image.
#
# Usage: scripts/guest-root.sh ARCH PACKAGES CACHE   (e.g. arm64 python3,linux-image-arm64 /var/cache/x)
# Prints the root's directory (root.cpio and vmlinuz inside); cached there, rebuilt when its recipe changes.
set -euo pipefail
cd "$(dirname "$0")/.."
ARCH=$1 PACKAGES=$2 CACHE=$3
SUITE=bookworm
recipe=$(echo "$SUITE $PACKAGES $(scripts/debian-mirror.sh) unpack-v1" | sha256sum | cut -c1-16)
root="$CACHE/root-$recipe"
if [ -f "$root/complete" ]; then
    echo "$root"
    exit 0
fi
echo "guest-root: building the $ARCH root ($recipe) from $(scripts/debian-mirror.sh)" >&2
mkdir -p "$CACHE"
rm -rf "$CACHE"/root-* "$CACHE"/build.*
tmp=$(mktemp -d "$CACHE/build.XXXXXX")
debootstrap --foreign --arch="$ARCH" --variant=minbase --include="$PACKAGES" \
    "$SUITE" "$tmp/fs" "$(scripts/debian-mirror.sh)" > "$tmp/debootstrap.log" 2>&1 \
    || { tail -20 "$tmp/debootstrap.log" >&2; exit 1; }
# Of the kernel only its image: its modules are not needed (console and everything else are built in).
for deb in "$tmp"/fs/var/cache/apt/archives/*.deb; do
    case $(basename "$deb") in
        linux-image-[0-9]*) dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/fs" --wildcards './boot/vmlinuz-*' ;;
        *) dpkg-deb -x "$deb" "$tmp/fs" ;;
    esac
done
mv "$tmp"/fs/boot/vmlinuz-* "$tmp/vmlinuz"
cp "$tmp/fs/usr/share/base-passwd/passwd.master" "$tmp/fs/etc/passwd"
cp "$tmp/fs/usr/share/base-passwd/group.master" "$tmp/fs/etc/group"
rm -rf "$tmp"/fs/var/cache/apt/archives/*.deb "$tmp/fs/debootstrap" \
    "$tmp"/fs/usr/share/{doc,man,locale,info}
(cd "$tmp/fs" && find . | cpio -o -H newc --quiet) > "$tmp/root.cpio"
rm -rf "$tmp/fs"
touch "$tmp/complete"
mv "$tmp" "$root"
echo "$root"
