#!/bin/bash
# guest-compare.sh — jkvm and QEMU's microvm side by side: the same Linux kernel, the same busybox
# initramfs and the same raw disk image, booted alternately ROUNDS times on this machine.
#
# What it measures, per VMM (1 vCPU, 256 MiB RAM, one virtio-blk disk over virtio-mmio, devices
# described by ACPI on both: jkvm's default, QEMU `-M microvm,acpi=on`):
#   boot   wall time from starting the VMM process to the console line JKVM-INIT-OK (printed by
#          jkvm's /init once /proc, /sys and /dev are mounted), to the end of a trivial command
#          (the checkpoint line "@@ booted") and to the VMM's exit after the guest powered off;
#          KVM's exit counters up to the end of that command; for jkvm also the total of its own
#          --exit-stats (exits that reached jkvm in user space, whole run up to the power-off).
#   disk   sequential read, then write, of the whole image inside the guest with busybox dd,
#          O_DIRECT, 1 MiB blocks, DD_MIB MiB: MiB/s from the guest's clock (/proc/uptime, 10 ms
#          steps; busybox dd prints no rate) and KVM's exit counters per MiB.
# Exits are counted the same way for both VMMs: KVM's per-VM debugfs statistics
# (/sys/kernel/debug/kvm/<thread id>-<vm fd>/{exits,io_exits,mmio_exits,halt_exits,irq_exits}),
# read while the guest waits at a checkpoint just before and just after the measured step. What
# the checkpoints cost themselves is counted too, equally for both: the end checkpoint's console
# line and the echo of the host's newline (a few dozen port I/O exits to the UART).
#
# The kernel: the comparison variant of jkvm's minimal kernel (guests/linux/build-kernel.sh compare, built
# here on first use), for both VMMs. On PVM hosts guest kernel code runs through KVM's instruction
# emulator, which cannot deliver int3 and lacks fwait; jkvm handles both exits itself, QEMU stops at
# the int3 self-test of the test kernel. The variant has no int3 self-test and no fwait on task exit,
# and no other int3 (no jump labels, ftrace, kprobes or dynamic preemption in jkvm.config; static calls
# are only patched while booting, without int3), so both VMMs boot the same kernel everywhere.
# On a PVM host (/sys/module/kvm_pvm) QEMU also gets what jkvm applies by itself there: CPUID without
# CX16 and no ARCH_CAPABILITIES MSR (-cpu host,-arch-capabilities,-cx16) and the kernel switches of
# jkvm's PVM quirk set (PvmQuirks.KERNEL_SWITCHES; KernelCmdlineTest keeps the two lists equal).
#
# How the guest is driven: the serial console is the VMM's stdin/stdout, a bash coprocess. The kernel
# command line ends with ` -- JKVM-COMMAND sh /bench.sh STEP` (jkvm writes that marker itself; QEMU is
# given it, so that jkvm's /init sees the same words from both); jkvm's /init runs that command and prints
# JKVM-EXIT=<status>. /bench.sh (written below) prints "@@ NAME [VALUES]" at each checkpoint and
# waits for a newline on the console; this script reads KVM's counters, then sends the newline.
# The initramfs is jkvm's (`jkvm.jar initramfs --busybox`) with a second cpio archive holding
# /bench.sh appended (the kernel unpacks concatenated archives), because the kernel passes at most
# 32 words after ` -- ` to init.
# Both VMMs go through the host page cache for the image (jkvm: pread/pwrite; QEMU: its default
# cache=writeback); it is created in $TMPDIR.
# jkvm and QEMU alternate within each round, so both see the same machine noise.
#
# Usage: benchmarks/guest-compare.sh      (as root: debugfs; needs /dev/kvm and qemu-system-x86_64)
#   ROUNDS (5)        rounds; each boots jkvm, then QEMU, once for the boot and once for the disk
#   DD_MIB (256)      image size and dd count, MiB
#   KERNEL ($JKVM_CACHE/guest/vmlinux-compare)    a kernel both VMMs boot: vmlinux (PVH entry) or bzImage
#   STEP_TIMEOUT (900) seconds to wait for the next console line before giving up
# Without /dev/kvm:   scripts/nested-kvm.sh env ROUNDS=1 benchmarks/guest-compare.sh
#   (nested-kvm.sh passes on only PATH and JKVM_* variables, hence `env`).
# Prints, per metric, the median over the rounds for each VMM and the ratio jkvm/QEMU of the
# medians, then every round's value.
set -euo pipefail

bench=guest-compare
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=compare-lib.sh
. "$here/compare-lib.sh"
rounds=${ROUNDS:-5}
dd_mib=${DD_MIB:-256}
memory=256M
on_checkpoint() { :; }

# The guest side: checkpoints for the host, and the two timed dd runs.
write_guest_script() {
    cat > "$1" <<'EOF'
# /bench.sh STEP [MIB] — run by /init through the kernel command line.
# checkpoint NAME [VALUES...]: tell the host, then wait until it has read KVM's counters.
checkpoint() { echo "@@ $*"; read -r _; }
# timed_dd NAME MIB DD-ARGS...: dd between two checkpoints; the second one carries the guest's
# uptime before and after (from /proc/uptime without forking).
timed_dd() {
    name=$1 mib=$2; shift 2
    checkpoint "$name-start"
    read -r t0 _ < /proc/uptime
    dd bs=1M count="$mib" "$@" 2>/tmp/dd.log || { cat /tmp/dd.log; exit 1; }
    read -r t1 _ < /proc/uptime
    checkpoint "$name-end $t0 $t1"
}
case $1 in
    boot) checkpoint booted ;;
    disk) timed_dd read "$2" if=/dev/vda of=/dev/null iflag=direct
          timed_dd write "$2" if=/dev/zero of=/dev/vda oflag=direct ;;
esac
EOF
}

build() {
    build_initramfs write_guest_script
    dd if=/dev/zero of="$work/disk.img" bs=1M count="$dd_mib" status=none
}

# vmm_command VMM STEP: sets vmm_cmd to the VMM's command line; both get the same kernel, initramfs,
# kernel command line, memory, vCPUs and disk.
vmm_command() {
    local command="-- JKVM-COMMAND sh /bench.sh $2"
    case $1 in
        jkvm) vmm_cmd=(java -jar "$jar" run --kernel "$kernel" --initrd "$work/initramfs.cpio"
                       --cmdline "$cmdline_base $command" --memory "$memory" --cpus 1 --disk "$work/disk.img" --no-rng --exit-stats) ;;
        # acpi=on: the disk is found through the DSDT, as with jkvm. auto-kernel-cmdline=off: no
        # virtio_mmio.device= words from QEMU, which appends them at the END of the command line,
        # i.e. after ` -- `, where they would become arguments of /init.
        qemu) vmm_cmd=(qemu-system-x86_64 -M microvm,acpi=on,auto-kernel-cmdline=off -enable-kvm -cpu "$qemu_cpu"
                       -smp 1 -m "$memory" -nographic -no-reboot
                       -kernel "$kernel" -initrd "$work/initramfs.cpio"
                       -append "$cmdline_base$qemu_switches $command"
                       -drive id=disk0,file="$work/disk.img",format=raw,if=none -device virtio-blk-device,drive=disk0) ;;
    esac
}

boot_round() {
    local vmm=$1 stat
    run_vm "$vmm" boot
    record "$vmm" "boot: launch to JKVM-INIT-OK, s" "$(event 2 '^init ')"
    record "$vmm" "boot: launch to command done, s" "$(event 3 '^@@ booted ')"
    record "$vmm" "boot: launch to VMM exit, s" "$(event 2 '^end ')"
    for stat in $kvm_stats; do
        record "$vmm" "boot: KVM $stat to command done" "$(counter "$stat" '^@@ booted ')"
    done
    [ "$vmm" = jkvm ] && record jkvm "boot: exits to jkvm (--exit-stats)" "$(exit_stats_total)"
    return 0
}

disk_round() {
    local vmm=$1 op stat
    run_vm "$vmm" "disk $dd_mib"
    for op in read write; do
        record "$vmm" "dd $op: MiB/s" "$(awk -v m="$dd_mib" "/^@@ $op-end / { printf \"%.1f\", m / (\$4 - \$3) }" "$work/events")"
        for stat in $kvm_stats; do
            record "$vmm" "dd $op: $stat per MiB" "$(per_mib "$(counter "$stat" "^@@ $op-start ")" "$(counter "$stat" "^@@ $op-end ")")"
        done
    done
}

per_mib() { awk -v a="$1" -v b="$2" -v m="$dd_mib" 'BEGIN { if (a == "NA" || b == "NA") print "NA"; else printf "%.2f", (b - a) / m }'; }

require_kvm
work=$(mktemp -d "${TMPDIR:-/tmp}/guest-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
build
echo "guest-compare: kernel $kernel, $rounds rounds, 1 vCPU, $memory RAM, $dd_mib MiB disk image in $work"
for round in $(seq "$rounds"); do
    for vmm in jkvm qemu; do
        echo "round $round: $vmm" >&2
        boot_round "$vmm"
        disk_round "$vmm"
    done
done
summarize
