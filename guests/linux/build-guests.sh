#!/usr/bin/env bash
# Fetches and builds every guest artifact the Linux tests use (all cached; a second run is quick):
#   $JKVM_CACHE/guest/busybox        Debian busybox-static
#   $JKVM_CACHE/guest/vmlinuz-cloud  Debian's stock cloud kernel
#   $JKVM_CACHE/guest/bzImage, vmlinux   jkvm's minimal kernel (build-kernel.sh)
#   $JKVM_CACHE/guest/jkvm-agent     the guest agent (../agent/build.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/fetch-busybox.sh"
"$here/fetch-debian-kernel.sh"
"$here/build-kernel.sh"
"$here/../agent/build.sh"
