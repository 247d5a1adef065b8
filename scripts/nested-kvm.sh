#!/bin/bash
# nested-kvm.sh — run one command on a machine that has a real /dev/kvm: a QEMU TCG virtual machine
# whose emulated AMD CPU has SVM (+NPT), so its Linux loads kvm_amd. Use it where the host has no
# /dev/kvm (e.g. a kvm-pvm guest).
#
#   scripts/nested-kvm.sh [--] COMMAND [ARG...]      e.g.  nested-kvm.sh java -version
#
# The VM sees the host's root filesystem read-only (virtiofs) under a RAM overlay, so everything the
# host has (JDK, ~/.m2, worktrees) is there and writes are thrown away — except the current working
# directory, which is shared read-write. The command runs as root in that directory with the caller's
# PATH and JKVM_* variables, and JKVM_NESTED=1 (tests size slow work by it); its output goes to stdout
# and the script exits with its status
# (124 on timeout, 125 if the VM never reported a status).
# Caveat: the host tree is the lower layer of an overlay, so a host file replaced while the VM runs
# (a symlink re-created by a build, a package upgraded by apt) may look missing, stale or fail with
# "Stale file handle" inside until the next run.
#
# Environment: JKVM_CACHE (default ~/.cache/jkvm; the initramfs is cached in $JKVM_CACHE/nested),
#   NESTED_KERNEL (default $JKVM_CACHE/guest/vmlinuz-cloud, Debian's 6.1 cloud kernel),
#   NESTED_MODULES (its /lib/modules/<version> tree; default: unpacked from NESTED_KERNEL_DEB),
#   NESTED_MEM (6G), NESTED_SMP (2), NESTED_TIMEOUT (seconds, 3600), NESTED_KVM_AMD ("" ; insmod
#   parameters for kvm_amd, e.g. "npt=0"), NESTED_CPU (QEMU -cpu, default max: has svm and npt),
#   NESTED_VERBOSE=1 (show the kernel log).
set -euo pipefail

[ "${1:-}" = -- ] && shift
[ $# -gt 0 ] || { sed -n '2,23p' "$0" >&2; exit 2; }
[ "$PWD" != / ] || { echo "nested-kvm: run from a directory other than / (it is shared read-write)" >&2; exit 2; }

JKVM_CACHE=${JKVM_CACHE:-$HOME/.cache/jkvm}
CACHE=$JKVM_CACHE/nested
KERNEL=${NESTED_KERNEL:-$JKVM_CACHE/guest/vmlinuz-cloud}
# guests/linux/fetch-debian-kernel.sh unpacks the kernel into $JKVM_CACHE/linux-image-<KVER>-<debian version>/
KVER=$(basename "$(dirname "$(readlink -f "$KERNEL")")" | sed -E 's/^linux-image-(.*-cloud-amd64)-.*/\1/')
DEB=${NESTED_KERNEL_DEB:-}
BUSYBOX=${NESTED_BUSYBOX:-$JKVM_CACHE/guest/busybox}
VIRTIOFSD=${VIRTIOFSD:-/usr/lib/qemu/virtiofsd}
MEM=${NESTED_MEM:-6G}
SMP=${NESTED_SMP:-2}
TIMEOUT=${NESTED_TIMEOUT:-3600}

# Load order matters: insmod does not resolve dependencies (order taken from the modules' "depends").
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci fuse virtiofs overlay
         irqbypass kvm kvm-amd tun"

build_initramfs() {
    local moddir=${NESTED_MODULES:-}
    if [ -z "$moddir" ]; then
        moddir=$CACHE/modules/lib/modules/$KVER
        if [ ! -d "$moddir" ]; then
            mkdir -p "$CACHE"
            if [ -z "$DEB" ]; then  # the kernel package's modules: download it once (not installed)
                (cd "$CACHE" && apt-get download -q "linux-image-$KVER" >&2)
                DEB=$(ls "$CACHE"/linux-image-"$KVER"_*.deb | head -1)
            fi
            mkdir -p "$CACHE/modules" && dpkg-deb -x "$DEB" "$CACHE/modules"
        fi
    fi
    local root; root=$(mktemp -d)
    mkdir -p "$root"/{bin,dev,proc,sys,lib/modules,lower,rw,newroot}
    cp "$BUSYBOX" "$root/bin/busybox"
    for m in $MODULES; do
        find "$moddir/kernel" -name "$m.ko" -exec cp {} "$root/lib/modules/" \; 
        [ -f "$root/lib/modules/$m.ko" ] || { echo "nested-kvm: module $m not in $moddir" >&2; exit 2; }
    done
    echo "$MODULES" > "$root/lib/modules/order"
    cat > "$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
ip link set lo up   # loopback only (JMH talks to its forked JVMs over it)
arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p"; }
fail() { printf '\nnested-kvm: %s\nNESTED-KVM-EXIT=125\n' "$*"; poweroff -f; }
for m in $(cat /lib/modules/order); do
    params=; [ "$m" = kvm-amd ] && params=$(arg nested.kvm_amd | base64 -d)
    insmod /lib/modules/$m.ko $params || fail "insmod $m failed"
done
[ -c /dev/kvm ] || { dmesg | grep -E 'kvm|SVM' | grep -v 'ommand line'; fail "no /dev/kvm"; }
[ "$(arg nested.verbose)" = 1 ] && dmesg | grep -E 'kvm|SVM' | grep -v 'ommand line'
mount -t virtiofs -o ro hostroot /lower || fail "virtiofs hostroot"
mount -t tmpfs -o mode=755 rw /rw && mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || fail "overlay"
cwd=$(arg nested.cwd | base64 -d)
mkdir -p "/newroot$cwd" && mount -t virtiofs cwd "/newroot$cwd" || fail "virtiofs cwd"
mount -t proc proc /newroot/proc; mount -t sysfs sys /newroot/sys; mount -t devtmpfs dev /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts; mount -t tmpfs shm /newroot/dev/shm
# What udev/systemd would add: bash process substitution needs /dev/fd.
ln -s /proc/self/fd /newroot/dev/fd
arg nested.cmd | base64 -d > /newroot/.nested-cmd
chroot /newroot /bin/bash /.nested-cmd
printf "\nNESTED-KVM-EXIT=%d\n" $?
umount "/newroot$cwd"; sync
poweroff -f
EOF
    chmod +x "$root/init"
    mkdir -p "$CACHE"
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$INITRD.tmp.$$"
    mv "$INITRD.tmp.$$" "$INITRD"
    rm -rf "$root"
}

# Named after this script's contents, so that worktrees with different MODULES never share one.
INITRD=$CACHE/initramfs-$(sha256sum "$0" | cut -c1-12).cpio.gz
[ -f "$INITRD" ] || build_initramfs

# The command, as a shell script run in the chroot (passed base64-encoded on the kernel command line,
# which x86 limits to 2048 bytes).
script="export PATH=$(printf %q "$PATH") HOME=/root JKVM_NESTED=1"
for v in $(compgen -e | grep '^JKVM_' || true); do script+=" $v=$(printf %q "${!v}")"; done
script+=$'\n'"cd $(printf %q "$PWD") && exec $(printf '%q ' "$@")"
b64() { printf %s "$1" | base64 -w0; }

run=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$run"' EXIT
"$VIRTIOFSD" --socket-path="$run/root.sock" -o source=/ -o cache=always -o sandbox=chroot \
    > "$run/virtiofsd-root.log" 2>&1 &
"$VIRTIOFSD" --socket-path="$run/cwd.sock" -o source="$PWD" -o cache=auto -o sandbox=chroot \
    > "$run/virtiofsd-cwd.log" 2>&1 &
for s in root cwd; do
    for _ in $(seq 100); do [ -S "$run/$s.sock" ] && break; sleep 0.1; done
done

loglevel=1; [ "${NESTED_VERBOSE:-0}" = 1 ] && loglevel=7
append="console=ttyS0 loglevel=$loglevel panic=-1 ${NESTED_APPEND:-} nested.verbose=${NESTED_VERBOSE:-0}"
append+=" nested.kvm_amd=$(b64 "${NESTED_KVM_AMD:-}") nested.cwd=$(b64 "$PWD") nested.cmd=$(b64 "$script")"

set +e
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg,thread=multi -cpu "${NESTED_CPU:-max}" -smp "$SMP" -m "$MEM" \
    -object memory-backend-memfd,id=mem,size="$MEM",share=on -numa node,memdev=mem \
    -display none -monitor none -serial stdio -no-reboot \
    -kernel "$KERNEL" -initrd "$INITRD" -append "$append" \
    -chardev socket,id=root,path="$run/root.sock" -device vhost-user-fs-pci,chardev=root,tag=hostroot \
    -chardev socket,id=cwd,path="$run/cwd.sock" -device vhost-user-fs-pci,chardev=cwd,tag=cwd \
    < /dev/null | tee "$run/serial.log"
qemu=${PIPESTATUS[0]}
set -e
[ "$qemu" = 124 ] && { echo "nested-kvm: timed out after ${TIMEOUT}s" >&2; exit 124; }
status=$(tr -d '\r' < "$run/serial.log" | sed -n 's/^NESTED-KVM-EXIT=\([0-9]*\)$/\1/p' | tail -1)
[ -n "$status" ] || { echo "nested-kvm: no exit status (qemu exit $qemu)" >&2; cat "$run"/virtiofsd-*.log >&2; exit 125; }
exit "$status"
