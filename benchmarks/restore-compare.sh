#!/bin/bash
# restore-compare.sh — a cold boot against a boot-cache restore (`jkvm run --boot-cache`), each launched
# as a new jkvm process and timed until the guest's command has answered and until jkvm has ended. Same
# kernel, initramfs, command line and command; the cache entry is made by one untimed run first, and every
# timed cached run must say it restored. Rounds alternate cold and cached; medians are printed, with the
# JVM's own start (`jkvm --version`) apart, since both pay it, and the moment the machine was built ("VM
# created" of --boot-timeline: after Machine.create, or Machine.restore) so that the guest's part, from
# there to the answer, can be told from the JVM's, which varies by seconds on a loaded machine.
#
# Usage: benchmarks/restore-compare.sh
#   ROUNDS (5)    rounds of one cold and one cached run
#   KERNEL        the guest kernel (default: $JKVM_CACHE/guest/vmlinux)
#   CPUS (1), MEMORY (256M)
#   RUN_TIMEOUT (900) seconds one run may take
#   JAR           the jkvm jar (default: api/target/jkvm.jar, built if missing)
# Without /dev/kvm:   scripts/nested-kvm.sh env ROUNDS=3 benchmarks/restore-compare.sh
# (under nested KVM every instruction is emulated: compare the two columns of one run only).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cache=${JKVM_CACHE:-$HOME/.cache/jkvm}
rounds=${ROUNDS:-5}
jar=${JAR:-$root/api/target/jkvm.jar}
kernel=${KERNEL:-$cache/guest/vmlinux}
cmdline="console=ttyS0 quiet panic=-1 reboot=k"
command='echo answer-$((6*7))'

die() { echo "restore-compare: $*" >&2; exit 1; }
[ -f "$kernel" ] || die "no kernel $kernel"
[ -f "$cache/guest/busybox" ] || die "no busybox in $cache/guest (guests/linux/build-guests.sh fetches it)"
[ -f "$jar" ] || (cd "$root" && mvn -q -o -DskipTests package)

work=$(mktemp -d "${TMPDIR:-/tmp}/restore-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
java -jar "$jar" initramfs --busybox "$cache/guest/busybox" "$work/initramfs.cpio"

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }

# run MODE (cold|cached): one launch; appends "MODE ANSWERED ENDED BUILT" (seconds since launch) to $work/times.
run() {
    local args=() start line answered= ended built
    [ "$1" = cold ] || args=(--boot-cache="$work/boot-cache")
    : > "$work/stderr"
    start=$EPOCHREALTIME
    while IFS= read -r line; do
        case $line in *answer-42*) [ -n "$answered" ] || answered=$(elapsed "$start") ;; esac
    done < <(timeout "${RUN_TIMEOUT:-900}" java -jar "$jar" run --kernel "$kernel" --initrd "$work/initramfs.cpio" \
                 --cpus "${CPUS:-1}" --memory "${MEMORY:-256M}" "${args[@]}" --boot-timeline --cmdline "$cmdline -- $command" \
                 </dev/null 2>"$work/stderr")
    ended=$(elapsed "$start")
    [ -n "$answered" ] || { cat "$work/stderr" >&2; die "$1: the guest never answered"; }
    if [ "$1" = cached ] && ! grep -q 'boot cache hit' "$work/stderr"; then
        cat "$work/stderr" >&2; die "cached: the run did not restore"
    fi
    built=$(awk '/ VM created$/ { printf "%.3f", $1 / 1000; exit }' "$work/stderr")
    echo "$1 $answered $ended ${built:-NA}" >> "$work/times"
}

echo "priming the boot cache (one untimed cold boot that saves the entry)" >&2
run cached-prime
: > "$work/times"
for round in $(seq "$rounds"); do
    echo "round $round of $rounds" >&2
    run cold
    run cached
    start=$EPOCHREALTIME
    java -jar "$jar" --version >/dev/null
    echo "jvm $(elapsed "$start") - -" >> "$work/times"
done

echo "restore-compare: $(basename "$kernel"), ${CPUS:-1} vCPU, ${MEMORY:-256M}, '$command'; median seconds since launch over $rounds alternating rounds"
awk '{ v[$1, ++n[$1]] = $2; e[$1, n[$1]] = $3; b[$1, n[$1]] = $4; g[$1, n[$1]] = $2 - $4 }
    function median(a, k, m,   i, j, s, t) {
        for (i = 1; i <= m; i++) s[i] = a[k, i]
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t }
        return m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
    }
    END {
        printf "%-34s %10s %10s %12s %20s\n", "", "answered", "ended", "VM created", "created to answer"
        for (i = 1; i <= 2; i++) {
            k = i == 1 ? "cold" : "cached"
            printf "%-34s %10.3f %10.3f %12.3f %20.3f\n", i == 1 ? "cold boot" : "boot-cache restore", median(v, k, n[k]),
                median(e, k, n[k]), median(b, k, n[k]), median(g, k, n[k])
        }
        printf "%-34s %10.3f\n", "JVM start alone (jkvm --version)", median(v, "jvm", n["jvm"])
    }' "$work/times"
