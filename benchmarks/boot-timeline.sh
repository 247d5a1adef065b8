#!/bin/bash
# boot-timeline.sh — where a jkvm boot spends its time: boots each given kernel ROUNDS times, alternating,
# with `jkvm run --boot-timeline`, and prints per mark the median milliseconds since JVM start.
#
# Usage: benchmarks/boot-timeline.sh [KERNEL...]     (default: $JKVM_CACHE/guest/vmlinux)
#   ROUNDS (3)   boots per kernel
#   CPUS (1), MEMORY (256M)
#   INITRD       an initramfs (default: jkvm's busybox initramfs, written to a temporary file)
# The guest runs `true` as init's command and powers off. The command line has no `quiet`, so the kernel's
# `Unpacking initramfs`, `Freeing initrd memory` and `Run /init` lines show (and cost their serial exits).
# Without /dev/kvm:   scripts/nested-kvm.sh env ROUNDS=3 benchmarks/boot-timeline.sh
# (under nested KVM every instruction is emulated: compare kernels or initramfs variants side by side in
# one run; the absolute times say nothing about real KVM).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cache=${JKVM_CACHE:-$HOME/.cache/jkvm}
rounds=${ROUNDS:-3}
jar=$root/boot/target/jkvm.jar
[ $# -gt 0 ] || set -- "$cache/guest/vmlinux"
for k in "$@"; do [ -f "$k" ] || { echo "boot-timeline: no kernel $k" >&2; exit 2; }; done
[ -f "$jar" ] || (cd "$root" && mvn -q -o -DskipTests package)

work=$(mktemp -d "${TMPDIR:-/tmp}/boot-timeline.XXXXXX")
trap 'rm -rf "$work"' EXIT
initrd=${INITRD:-}
if [ -z "$initrd" ]; then
    initrd=$work/initramfs.cpio
    java -jar "$jar" initramfs --busybox "$cache/guest/busybox" "$initrd"
fi

# One boot: the timeline's rows as "KERNEL-INDEX<TAB>MARK<TAB>MS" lines in $work/marks.
boot() {
    java -jar "$jar" run --kernel "$2" --initrd "$initrd" --cpus "${CPUS:-1}" --memory "${MEMORY:-256M}" \
        --cmdline "console=ttyS0 panic=-1 reboot=k -- true" --boot-timeline >/dev/null 2>"$work/stderr" \
        || { cat "$work/stderr" >&2; exit 1; }
    # Rows: "<ms> <+ms> [<guest s>]  <what>"; "what" may hold spaces, and init's line is shortened to its mark.
    awk -v k="$1" '/^boot timeline/ { t = 1; next } t && NF >= 3 {
        what = $0; sub(/^ *[0-9]+ +[0-9]+ +([0-9.]+ +)?/, "", what); sub(/: .*/, "", what)
        printf "%s\t%s\t%s\n", k, what, $1 }' "$work/stderr" >> "$work/marks"
}

for round in $(seq "$rounds"); do
    i=0
    for k in "$@"; do
        i=$((i + 1))
        echo "round $round: kernel $i ($k)" >&2
        boot "$i" "$k"
    done
done

echo "median ms since JVM start over $rounds boots; kernels: $*"
awk -F'\t' '{ key = $2; if (!(key in order)) { order[key] = ++n; names[n] = key }
              v[$1, key, ++c[$1, key]] = $3; if ($1 > kmax) kmax = $1 }
    END {
        printf "%-28s", "mark"; for (k = 1; k <= kmax; k++) printf " %12s", "kernel " k; printf "\n"
        for (i = 1; i <= n; i++) {
            key = names[i]; printf "%-28s", key
            for (k = 1; k <= kmax; k++) {
                m = c[k, key]; for (a = 1; a <= m; a++) s[a] = v[k, key, a]
                for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++) if (s[b] < s[a]) { t = s[a]; s[a] = s[b]; s[b] = t }
                printf " %12s", m ? (m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2) : "-"
            }
            printf "\n"
        }
    }' "$work/marks"
