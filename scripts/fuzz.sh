#!/usr/bin/env bash
# Fuzzes jkvm's Jazzer harnesses (@FuzzTest methods) for a fixed time budget each:
#
#   scripts/fuzz.sh SECONDS [HARNESS...]      # HARNESS: mmioBlock, legacyRegisters, kernelLoader, restoreBlock, stateFile (default: all)
#
# In every normal build (mvn verify, scripts/test.sh) the same @FuzzTest methods run as ordinary JUnit tests
# in Jazzer's regression mode: once on each committed input under
# <module>/src/test/resources/<package>/<Class>Inputs/<method>/, no fuzzing. This script is the fuzzing mode,
# the one JAZZER_FUZZ=1 selects in JUnit, but through Jazzer's own driver (com.code_intelligence.jazzer.Jazzer
# with --target_class/--target_method runs the same @FuzzTest method), because under JUnit the time budget
# is fixed by the annotation's maxDuration, and here it is SECONDS. The JUnit way works too:
#   JAZZER_FUZZ=1 mvn -o -pl devices -am test -Dtest=VirtioBlockMmioFuzzTest -Dsurefire.failIfNoSpecifiedTests=false
# (fuzzes for maxDuration, 10 minutes; one @FuzzTest per run).
#
# Per harness: the generated corpus grows in target/fuzz/<harness>/corpus (the committed inputs are read as
# a second corpus directory, never written); findings (crash-*, timeout-*) go to target/fuzz/<harness>/ and
# make the script exit 1; the full libFuzzer log is target/fuzz/<harness>/log. A finding becomes a regression
# test by moving it into the harness's committed inputs directory. The last lines of each log (executions,
# coverage "cov:" = instrumented edges reached, "ft:" = features, corpus size) are printed at the end.
#
# FUZZ_MERGE=1 scripts/fuzz.sh 0 HARNESS: instead of fuzzing, add to the committed inputs a small set of
# generated inputs that covers the edges the committed ones miss (libFuzzer -merge=1 over edges only,
# -use_counters=0, so the committed corpus stays small); review and commit them.
# FUZZ_KEEP_GOING=N: go on after a finding, up to N distinct findings (default 1: stop at the first).
#
# Needs the modules built: mvn -o -B install -DskipTests (or mvn test-compile on the modules).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:?usage: scripts/fuzz.sh SECONDS [HARNESS...]}
shift
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(mmioBlock legacyRegisters kernelLoader restoreBlock stateFile)

# harness -> module, class, largest input (bytes past what a harness consumes only slow it down)
describe() {
    case "$1" in
        mmioBlock) echo "devices io.jkvm.devices.virtio.VirtioBlockMmioFuzzTest 2048" ;;
        legacyRegisters) echo "devices io.jkvm.devices.legacy.LegacyRegistersFuzzTest 4096" ;;
        kernelLoader) echo "boot io.jkvm.boot.loader.KernelLoaderFuzzTest 65536" ;;
        restoreBlock) echo "devices io.jkvm.devices.virtio.SnapshotRestoreFuzzTest 1024" ;;
        stateFile) echo "vmm-core io.jkvm.snapshot.StateFileFuzzTest 4096" ;;
        *) echo "fuzz: unknown harness $1 (mmioBlock, legacyRegisters, kernelLoader, restoreBlock, stateFile)" >&2; exit 2 ;;
    esac
}

mvn -o -q -B test-compile -pl vmm-core,devices,boot -am >/dev/null
status=0
for h in "${harnesses[@]}"; do
    read -r module class maxlen < <(describe "$h")
    out="$module/target/fuzz/$h"
    mkdir -p "$out/corpus"
    # The module's test class path, with this tree's own modules instead of the jars in ~/.m2 (which another
    # checkout may have installed).
    mvn -o -q -B dependency:build-classpath -pl "$module" -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$out/cp" >/dev/null
    own="vmm-core/target/classes:vmm-core/target/test-classes:devices/target/classes:devices/target/test-classes"
    [ "$module" = boot ] && own="$own:boot/target/classes:boot/target/test-classes"
    deps=$(tr ':' '\n' < "$out/cp" | grep -v '/io/jkvm/' | paste -sd: -)
    inputs="$module/src/test/resources/$(echo "${class%.*}" | tr . /)/${class##*.}Inputs/$h"
    mkdir -p "$inputs"
    set +e
    if [ -n "${FUZZ_MERGE:-}" ]; then
        # Adds to the committed inputs the generated inputs that reach coverage they do not (libFuzzer -merge=1).
        echo "fuzz: merging $out/corpus into $inputs (log: $out/merge.log)"
        java -Xmx2g -cp "$own:$deps" com.code_intelligence.jazzer.Jazzer \
            --target_class="$class" --target_method="$h" -merge=1 -use_counters=0 -timeout=10 \
            -max_len="$maxlen" "$inputs" "$out/corpus" >"$out/merge.log" 2>&1
        rc=$?
        tail -1 "$out/merge.log"
        set -e
        continue
    else
        echo "fuzz: $h for ${seconds}s (log: $out/log)"
        java -Xmx2g -cp "$own:$deps" com.code_intelligence.jazzer.Jazzer \
            --target_class="$class" --target_method="$h" --keep_going="${FUZZ_KEEP_GOING:-1}" \
            -max_total_time="$seconds" -timeout=10 -len_control=0 -max_len="$maxlen" -print_final_stats=1 \
            -artifact_prefix="$out/" "$out/corpus" "$inputs" >"$out/log" 2>&1
        rc=$?
    fi
    set -e
    grep -E '^#[0-9]+' "$out/log" | tail -1 || true
    grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec)' "$out/log" || true
    if [ "$rc" != 0 ]; then
        echo "fuzz: $h: finding or failure (exit $rc), see $out/log and $out/crash-* / timeout-*" >&2
        grep -A12 '== Java Exception' "$out/log" | head -20 >&2 || true
        status=1
    fi
done
exit "$status"
