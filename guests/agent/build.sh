#!/usr/bin/env bash
# Builds the guest agent (jkvm-agent.c) as a static binary with the host's gcc and glibc (libc6-dev), the
# toolchain of the other test guests. Cached in $JKVM_CACHE/agent-<hash of the source>/; the stable name
# $JKVM_CACHE/guest/jkvm-agent points at it. Prints the agent's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../linux/common.sh"

key=$(cat "$here/jkvm-agent.c" | sha256sum | cut -c1-16)
dir=$JKVM_CACHE/agent-$key
if [ ! -x "$dir/jkvm-agent" ]; then
    log "building jkvm-agent $key"
    mkdir -p "$dir"
    gcc -static -Os -s -Wall -Wextra -Werror -o "$dir/jkvm-agent.tmp" "$here/jkvm-agent.c"
    mv "$dir/jkvm-agent.tmp" "$dir/jkvm-agent"
else
    log "jkvm-agent $key cached"
fi
link_guest "$dir/jkvm-agent" jkvm-agent
echo "$GUEST_DIR/jkvm-agent"
