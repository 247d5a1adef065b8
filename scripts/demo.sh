#!/usr/bin/env bash
# The main job (README.md): builds jkvm and its Linux guest (kernel build cached after the first run),
# writes the default busybox initramfs and boots jkvm's minimal kernel to an interactive shell on this
# terminal. Ctrl-A x quits; `poweroff -f` in the guest ends jkvm with exit code 0.
# Extra arguments go to `jkvm run` (e.g. --cpus 2, --disk my.img).
set -euo pipefail
cd "$(dirname "$0")/.."
bash guests/linux/build-guests.sh >/dev/null
mvn -B -q -ntp -DskipTests package
guest="${JKVM_CACHE:-$HOME/.cache/jkvm}/guest"
initramfs="${JKVM_CACHE:-$HOME/.cache/jkvm}/initramfs-busybox.cpio"
java -jar api/target/jkvm.jar initramfs --busybox "$guest/busybox" --agent "$guest/jkvm-agent" "$initramfs"
# The ELF vmlinux boots through its PVH entry: no self-decompression, which is slow where guest kernel
# code is emulated (PVM, ../shared/platform.md).
exec java -jar api/target/jkvm.jar run --kernel "$guest/vmlinux" --initrd "$initramfs" "$@"
