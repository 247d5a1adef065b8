#!/bin/sh
# Measures the guest-exit round trip (KVM_RUN -> PIO or MMIO exit -> dispatch -> KVM_RUN) side by side on
# the same machine: a C program driving the raw ioctls (src/main/c/exit-loop.c) and jkvm's Java run loop
# under JMH (ExitBenchmark). Both run the same guests (guests/src/main/asm/bench-{pio,mmio}.S).
# Shared machines are noisy, so the two alternate for ROUNDS rounds (C pio, C mmio, then one JMH fork
# for both guests) and the script prints the median ns/exit of each and, last, the ratio of the Java to
# the C medians summed over both exit kinds.
#
# Usage: benchmarks/exit-compare.sh          (ROUNDS=n: rounds, default 5; EXITS=n: exits per C
#                                             measurement, default 200000; SKIP_BUILD=1: reuse
#                                             target/benchmarks.jar)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
guests="$root/guests/src/main/resources/io/jkvm/guests"
exits=${EXITS:-200000}

if [ ! -e /dev/kvm ]; then
    echo "exit-compare: /dev/kvm does not exist on this machine; no KVM exit can be measured" >&2
    exit 1
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    echo "exit-compare: /dev/kvm is not readable and writable by $(id -un)" >&2
    exit 1
fi

mkdir -p "$here/target"
gcc -O2 -Wall -o "$here/target/exit-loop" "$here/src/main/c/exit-loop.c"
if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f "$here/target/benchmarks.jar" ]; then
    (cd "$root" && mvn -q -pl benchmarks -am package -DskipTests)
fi

rounds=${ROUNDS:-5}
results="$here/target/exit-compare.tsv"   # one line per measurement: side, guest, ns/exit
: >"$results"
csv="$here/target/exit-benchmark.csv"
for round in $(seq "$rounds"); do
    for guest in pio mmio; do
        printf 'c\t%s\t%s\n' "$guest" "$("$here/target/exit-loop" "$guests/bench-$guest.bin" "$guest" "$exits")" >>"$results"
    done
    # An English locale keeps the CSV's decimal point a point.
    java -Duser.language=en -Duser.country=US -jar "$here/target/benchmarks.jar" ExitBenchmark -f 1 \
        -rf csv -rff "$csv" >"$here/target/exit-benchmark-$round.log"
    # CSV columns: "Benchmark","Mode","Threads","Samples","Score","Score Error (99.9%)","Unit","Param: guest"
    awk -F, 'NR > 1 { g = $8; gsub(/"|bench-|\r/, "", g); printf "java\t%s\t%s\n", g, $5 }' "$csv" >>"$results"
    for guest in pio mmio; do   # a fork that died leaves its guest out of this round's CSV
        grep -q "bench-$guest" "$csv" || echo "exit-compare: round $round: no JMH result for $guest (see exit-benchmark-$round.log)" >&2
    done
    echo "exit-compare: round $round of $rounds done" >&2
done

median() {   # median ns/exit of one side and guest
    awk -F'\t' -v side="$1" -v guest="$2" '$1 == side && $2 == guest { print $3 }' "$results" | sort -g \
        | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
c_pio=$(median c pio) && c_mmio=$(median c mmio) && java_pio=$(median java pio) && java_mmio=$(median java mmio) || {
    echo "exit-compare: a measurement is missing; see $results and $here/target/exit-benchmark-*.log" >&2
    exit 1
}

awk -v n="$rounds" -v cp="$c_pio" -v cm="$c_mmio" -v jp="$java_pio" -v jm="$java_mmio" 'BEGIN {
    printf "exit round trip, median ns/exit over %d alternating rounds\n", n
    printf "  pio   c: %9.1f   java: %9.1f\n", cp, jp
    printf "  mmio  c: %9.1f   java: %9.1f\n", cm, jm
    printf "ratio java/c: %.2f\n", (jp + jm) / (cp + cm)
}'
