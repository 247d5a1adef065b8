#!/usr/bin/env bash
# Fetches Debian's statically linked busybox (package busybox-static) into the cache and points
# $JKVM_CACHE/guest/busybox at it. Nothing is installed on the host. Prints the busybox path.
set -euo pipefail
. "$(dirname "$0")/common.sh"

apt_lists_ready
version=$(candidate_version busybox-static)
dir=$JKVM_CACHE/busybox-static-$version
if [ ! -x "$dir/busybox" ]; then
    log "fetching busybox-static $version"
    unpacked=$(mktemp -d)
    fetch_deb busybox-static "$unpacked"
    mkdir -p "$dir"
    cp "$unpacked/bin/busybox" "$dir/busybox.tmp" && mv "$dir/busybox.tmp" "$dir/busybox"
    rm -rf "$unpacked"
else
    log "busybox-static $version cached"
fi
link_guest "$dir/busybox" busybox
echo "$GUEST_DIR/busybox"
