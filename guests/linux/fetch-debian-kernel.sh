#!/usr/bin/env bash
# Fetches Debian's stock cloud kernel (the package linux-image-cloud-amd64 currently depends on, a
# 6.1 kernel on bookworm) into the cache and points $JKVM_CACHE/guest/vmlinuz-cloud at its bzImage.
# Nothing is installed on the host. Prints the vmlinuz path.
# Note: on PVM hosts this kernel boots but cannot run user space (see README.md, "The patch").
set -euo pipefail
. "$(dirname "$0")/common.sh"

apt_lists_ready
pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$pkg" ] || { log "cannot resolve linux-image-cloud-amd64"; exit 1; }
version=$(candidate_version "$pkg")
dir=$JKVM_CACHE/$pkg-$version
if [ ! -f "$dir/vmlinuz" ]; then
    log "fetching $pkg $version"
    unpacked=$(mktemp -d)
    fetch_deb "$pkg" "$unpacked"
    mkdir -p "$dir"
    cp "$unpacked"/boot/config-* "$dir/config"
    cp "$unpacked"/boot/vmlinuz-* "$dir/vmlinuz.tmp" && mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
    rm -rf "$unpacked"
else
    log "$pkg $version cached"
fi
link_guest "$dir/vmlinuz" vmlinuz-cloud
echo "$GUEST_DIR/vmlinuz-cloud"
