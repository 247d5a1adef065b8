#!/bin/sh
# Measures the guest-exit round trip (KVM_RUN -> PIO or MMIO exit -> dispatch -> KVM_RUN) twice, side by
# side on the same machine: a C program driving the raw ioctls (src/main/c/exit-loop.c) and jkvm's Java
# run loop under JMH (ExitBenchmark). Both run the same guests (guests/src/main/asm/bench-{pio,mmio}.S).
# Prints ns/exit for each and, last, the ratio of the Java to the C mean over both exit kinds.
#
# Usage: benchmarks/exit-compare.sh          (EXITS=n: exits per C measurement, default 200000;
#                                             SKIP_BUILD=1: reuse target/benchmarks.jar)
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

c_pio=$("$here/target/exit-loop" "$guests/bench-pio.bin" pio "$exits")
c_mmio=$("$here/target/exit-loop" "$guests/bench-mmio.bin" mmio "$exits")

csv="$here/target/exit-benchmark.csv"
# An English locale keeps the CSV's decimal point a point.
java -Duser.language=en -Duser.country=US -jar "$here/target/benchmarks.jar" ExitBenchmark -rf csv -rff "$csv" >"$here/target/exit-benchmark.log"
# CSV columns: "Benchmark","Mode","Threads","Samples","Score","Score Error (99.9%)","Unit","Param: guest"
java_score() {
    awk -F, -v guest="$1" '{ g = $8; gsub(/"/, "", g); if (g == guest) print $5 }' "$csv"
}
java_pio=$(java_score bench-pio)
java_mmio=$(java_score bench-mmio)
if [ -z "$java_pio" ] || [ -z "$java_mmio" ]; then
    echo "exit-compare: no JMH result; see $here/target/exit-benchmark.log" >&2
    exit 1
fi

awk -v cp="$c_pio" -v cm="$c_mmio" -v jp="$java_pio" -v jm="$java_mmio" 'BEGIN {
    printf "exit round trip, mean ns/exit\n"
    printf "  pio   c: %9.1f   java: %9.1f\n", cp, jp
    printf "  mmio  c: %9.1f   java: %9.1f\n", cm, jm
    printf "ratio java/c: %.2f\n", (jp + jm) / (cp + cm)
}'
