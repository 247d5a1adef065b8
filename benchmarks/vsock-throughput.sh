#!/bin/bash
# vsock-throughput.sh — host<->guest stream throughput over jkvm's virtio-vsock, through the guest agent.
#
# Boots jkvm's kernel with the default initramfs plus the agent and a vsock device, then times with `jkvm
# exec` (the JVM's start is outside the measured span: each direction runs in one exec, and the guest's own
# clock times it):
#   guest->host  the guest's `dd if=/dev/zero bs=64k count=N` to stdout, relayed by the agent as stdout
#                frames, read by the host (jkvm exec > /dev/null)
#   host->guest  N * 64 KiB of zeros fed as stdin frames (jkvm exec -i) into the guest's `dd of=/dev/null`
# Both include the agent's pipe copies in the guest, so they are a floor for a raw vsock stream.
# MiB/s comes from the guest's /proc/uptime (10 ms steps) around the dd, printed by the guest command.
#
# Usage: benchmarks/vsock-throughput.sh        (needs /dev/kvm; jkvm built: mvn -DskipTests package)
#   MIB (256)  MiB per direction
# Without /dev/kvm:   scripts/nested-kvm.sh env MIB=64 benchmarks/vsock-throughput.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cache=${JKVM_CACHE:-$HOME/.cache/jkvm}
mib=${MIB:-256}
jar=$root/api/target/jkvm.jar
work=$(mktemp -d)
# The script's own status survives the clean-up: errexit holds in the trap too, so the wait for the killed
# VM (status 143) must not end it.
trap 'status=$?; kill "$vm" 2>/dev/null; wait "$vm" 2>/dev/null || true; rm -rf "$work"; exit $status' EXIT

java -jar "$jar" initramfs --busybox "$cache/guest/busybox" --agent "$cache/guest/jkvm-agent" "$work/initramfs.cpio"
java -jar "$jar" run --kernel "$cache/guest/vmlinux" --initrd "$work/initramfs.cpio" --vsock cid=3,uds="$work/v.sock" \
    < /dev/null > "$work/console.log" 2>&1 &
vm=$!
for _ in $(seq 600); do [ -S "$work/v.sock" ] && break; sleep 1; done
jexec() { java -jar "$jar" exec --vsock "$work/v.sock" --wait 600 "$@"; }
jexec -- true

# The guest prints its uptime before and after dd on stderr; the data goes to stdout / comes from stdin.
rate() { awk -v mib="$mib" '{ s = $2 - $1; printf "%.1f MiB/s (%d MiB in %.2f s)\n", mib / s, mib, s }'; }

count=$((mib * 16))
printf 'guest->host: '
jexec -- sh -c "t0=\$(cut -d' ' -f1 /proc/uptime); dd if=/dev/zero bs=64k count=$count 2>/dev/null; t1=\$(cut -d' ' -f1 /proc/uptime); echo \$t0 \$t1 >&2" \
    2>&1 >/dev/null | rate
printf 'host->guest: '
head -c $((mib << 20)) /dev/zero | jexec -i -- sh -c "t0=\$(cut -d' ' -f1 /proc/uptime); dd of=/dev/null bs=64k 2>/dev/null; t1=\$(cut -d' ' -f1 /proc/uptime); echo \$t0 \$t1 >&2" \
    2>&1 | rate
