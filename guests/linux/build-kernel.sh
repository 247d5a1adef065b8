#!/usr/bin/env bash
# Builds jkvm's minimal guest kernel from Debian's linux-source-6.1 package:
#   make tinyconfig + jkvm.config (merge_config.sh) + patches/*.patch -> bzImage and vmlinux (PVH entry).
# The result is cached in $JKVM_CACHE/linux-<key>/ where <key> is the source package version plus a
# hash of jkvm.config and the patches; an existing key is not rebuilt. $JKVM_CACHE/guest/bzImage and
# $JKVM_CACHE/guest/vmlinux point at it. Prints the cache directory.
#
#   build-kernel.sh [compare]
# `compare` builds the comparison variant for benchmarks/guest-compare.sh: patches-compare/*.patch on top
# (no int3 self-test, no fwait on task exit, so that QEMU, which handles neither emulation gap of PVM,
# boots it there too), linked as guest/bzImage-compare and guest/vmlinux-compare.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

variant=${1:-}
patches=("$here"/patches/*.patch)
case $variant in
    "") suffix= ;;
    compare) suffix=-compare; patches+=("$here"/patches-compare/*.patch) ;;
    *) log "unknown kernel variant '$variant' (known: compare)"; exit 2 ;;
esac

ensure_packages linux-source-6.1 build-essential bc bison flex libelf-dev libssl-dev cpio lz4 xz-utils

src_version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
inputs_hash=$(cat "$here/jkvm.config" "${patches[@]}" | sha256sum | cut -c1-16)
key=6.1-$src_version$suffix-$inputs_hash
out=$JKVM_CACHE/linux-$key

if [ -f "$out/vmlinux" ] && [ -f "$out/bzImage" ]; then
    log "kernel $key cached"
else
    work=$JKVM_CACHE/build/linux-$key
    rm -rf "$work" && mkdir -p "$work"
    log "unpacking linux-source-6.1 $src_version into $work"
    tar -xf /usr/src/linux-source-6.1.tar.xz -C "$work"
    tree=$work/linux-source-6.1
    for p in "${patches[@]}"; do
        log "applying $(basename "$p")"
        patch -d "$tree" -p1 --forward --quiet < "$p"
    done
    make -C "$tree" -s tinyconfig >/dev/null
    (cd "$tree" && scripts/kconfig/merge_config.sh -m .config "$here/jkvm.config" >/dev/null)
    make -C "$tree" -s olddefconfig
    # merge_config only warns; a fragment line that did not survive olddefconfig is an error here.
    bad=0
    while IFS= read -r line; do
        case $line in
            CONFIG_*=*) grep -qxF "$line" "$tree/.config" || { log "config not applied: $line"; bad=1; } ;;
            "# CONFIG_"*" is not set") opt=${line#\# }; opt=${opt%% *}
                grep -q "^$opt=" "$tree/.config" && { log "config not applied: $line"; bad=1; } ;;
        esac
    done < "$here/jkvm.config"
    [ $bad = 0 ] || exit 1
    log "building bzImage and vmlinux with -j$(nproc) (log: $work/build.log)"
    start=$(date +%s)
    if ! make -C "$tree" -j"$(nproc)" bzImage vmlinux >"$work/build.log" 2>&1; then
        tail -40 "$work/build.log" >&2
        exit 1
    fi
    log "built in $(( $(date +%s) - start )) s"
    mkdir -p "$out.tmp"
    cp "$tree/arch/x86/boot/bzImage" "$tree/vmlinux" "$tree/.config" "$tree/System.map" "$out.tmp/"
    rm -rf "$out" && mv "$out.tmp" "$out"
    rm -rf "$work"
fi
link_guest "$out/bzImage" "bzImage$suffix"
link_guest "$out/vmlinux" "vmlinux$suffix"
echo "$out"
