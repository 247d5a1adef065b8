#!/bin/bash
# net-compare.sh — virtio-net TCP throughput, jkvm and QEMU's microvm side by side: the same Linux kernel,
# the same busybox initramfs, each VMM's virtio-net device over a TAP, booted alternately ROUNDS times.
#
# What it measures, per VMM (1 vCPU, 512 MiB RAM, one virtio-net device over virtio-mmio found through the
# DSDT; QEMU with its own user-space virtio-net, vhost=off, as jkvm has no in-kernel data path either):
#   guest->host  MIB MiB of zeros from the guest's dd through busybox nc to a busybox nc on the host side
#   host->guest  the same the other way
# MiB/s from the guest's clock (/proc/uptime, 10 ms steps): for guest->host from the start of dd to the end
# of the guest's nc, for host->guest from the guest's accept to its EOF. KVM's exit counters (per-VM debugfs,
# as in guest-compare.sh) are read at checkpoints before and after each transfer and given per MiB.
#
# The network: a namespace this script creates (jkvm-bench-<pid>); each VMM runs inside it (`ip netns
# exec`), so the TAP it creates is there; the host side is 10.0.2.1/24 on that TAP, the guest 10.0.2.2/24.
# Nothing outside the namespace is addressed. Both TAPs get the guest's offloads (IFF_VNET_HDR).
#
# Usage: benchmarks/net-compare.sh    (as root: namespaces, TAPs, debugfs; needs /dev/kvm, qemu-system-x86_64)
#   ROUNDS (3)   MIB (256)   KERNEL ($JKVM_CACHE/guest/vmlinux-compare, see guest-compare.sh)   STEP_TIMEOUT (900) seconds per console line
# Without /dev/kvm:   scripts/nested-kvm.sh env ROUNDS=1 MIB=64 benchmarks/net-compare.sh
# Prints, per metric, the median over the rounds for each VMM, the ratio jkvm/QEMU, then every round's value.
set -euo pipefail

bench=net-compare
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=compare-lib.sh
. "$here/compare-lib.sh"
rounds=${ROUNDS:-3}
mib=${MIB:-256}
memory=512M
netns=jkvm-bench-$$
tap=jkvmbench0
host_ip=10.0.2.1 guest_ip=10.0.2.2

write_guest_script() {
    cat > "$1" <<EOF
# /bench.sh MIB — run by /init through the kernel command line.
checkpoint() { echo "@@ \$*"; read -r _; }
checkpoint net-setup
ip link set eth0 up && ip addr add $guest_ip/24 dev eth0 && ping -q -c 1 -W 30 $host_ip > /dev/null || exit 1
# guest -> host: dd and nc between the checkpoints (the host listens from g2h-start on)
checkpoint g2h-start
read -r t0 _ < /proc/uptime
until dd if=/dev/zero bs=1M count=\$1 2>/dev/null | nc $host_ip 5002; do sleep 1; done
read -r t1 _ < /proc/uptime
checkpoint "g2h-end \$t0 \$t1"
# host -> guest: the listener times itself, from accept to EOF
nc -l -p 5001 -e sh -c 'read -r a _ < /proc/uptime; cat > /dev/null; read -r b _ < /proc/uptime; echo \$a \$b > /tmp/h2g' &
checkpoint h2g-start
wait
checkpoint "h2g-end \$(cat /tmp/h2g)"
EOF
}

# The host side, at the guest's checkpoints (before the guest goes on).
on_checkpoint() {
    case $1 in
        net-setup) ip -n "$netns" addr add "$host_ip/24" dev "$tap" && ip -n "$netns" link set "$tap" up ;;
        g2h-start) ip netns exec "$netns" "$busybox" nc -l -p 5002 -e "$busybox" sh -c 'cat > /dev/null' &
                   host_nc=$! ;;
        g2h-end) wait "$host_nc" ;;
        h2g-start) ip netns exec "$netns" sh -c "until head -c ${mib}M /dev/zero | $busybox nc $guest_ip 5001; do sleep 1; done" &
                   host_nc=$! ;;
        h2g-end) wait "$host_nc" ;;
    esac
}

# vmm_command VMM: both run in the namespace, with the same kernel, initramfs, command line, memory and vCPU;
# the command line as in guest-compare.sh (JKVM-COMMAND given to both, QEMU's PVM settings).
vmm_command() {
    local command="-- JKVM-COMMAND sh /bench.sh $mib"
    case $1 in
        jkvm) vmm_cmd=(ip netns exec "$netns" java -jar "$jar" run --kernel "$kernel" --initrd "$work/initramfs.cpio"
                       --cmdline "$cmdline_base $command" --memory "$memory" --cpus 1 --net "tap=$tap" --no-rng --exit-stats) ;;
        qemu) vmm_cmd=(ip netns exec "$netns" qemu-system-x86_64 -M microvm,acpi=on,auto-kernel-cmdline=off
                       -enable-kvm -cpu "$qemu_cpu" -smp 1 -m "$memory" -nographic -no-reboot
                       -kernel "$kernel" -initrd "$work/initramfs.cpio" -append "$cmdline_base$qemu_switches $command"
                       -netdev "tap,id=net0,ifname=$tap,script=no,downscript=no,vhost=off"
                       -device virtio-net-device,netdev=net0) ;;
    esac
}

per_mib() { awk -v a="$1" -v b="$2" -v m="$mib" 'BEGIN { if (a == "NA" || b == "NA") print "NA"; else printf "%.2f", (b - a) / m }'; }

net_round() {
    local vmm=$1 dir stat
    run_vm "$vmm" net
    for dir in g2h h2g; do
        record "$vmm" "$dir: MiB/s" "$(awk -v m="$mib" "/^@@ $dir-end / { printf \"%.1f\", m / (\$4 - \$3) }" "$work/events")"
        for stat in $kvm_stats; do
            record "$vmm" "$dir: $stat per MiB" "$(per_mib "$(counter "$stat" "^@@ $dir-start ")" "$(counter "$stat" "^@@ $dir-end ")")"
        done
    done
}

require_kvm
command -v ip >/dev/null || die "ip (iproute2) is not installed"
work=$(mktemp -d "${TMPDIR:-/tmp}/net-compare.XXXXXX")
ip netns add "$netns"
trap 'ip netns del "$netns" 2>/dev/null; rm -rf "$work"' EXIT
build_initramfs write_guest_script
echo "net-compare: kernel $kernel, $rounds rounds, 1 vCPU, $memory RAM, $mib MiB each way, namespace $netns"
for round in $(seq "$rounds"); do
    for vmm in jkvm qemu; do
        echo "round $round: $vmm" >&2
        net_round "$vmm"
    done
done
summarize
