#!/usr/bin/env bash
# Print the Debian mirror apt is configured with (deb822 or one-line format), for debootstrap.
set -euo pipefail
uri=""
if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
fi
echo "${uri:-http://deb.debian.org/debian}"
