# compare-lib.sh — what the side-by-side scripts (guest-compare.sh, net-compare.sh) share: running a
# VMM with the guest's serial console as a coprocess, checkpoints at which KVM's per-VM exit counters are
# read, recording results and printing medians and ratios. Sourced after the caller has set bench (its name
# for messages) and root; the caller then sets work and rounds and defines vmm_command and on_checkpoint.

cache=${JKVM_CACHE:-$HOME/.cache/jkvm}
kernel=${KERNEL:-$cache/guest/vmlinux-compare}
busybox=$cache/guest/busybox
step_timeout=${STEP_TIMEOUT:-900}
jar=$root/api/target/jkvm.jar
debugfs=/sys/kernel/debug
kvm_stats="exits io_exits mmio_exits halt_exits irq_exits"
# jkvm's default command line (MachineConfig.DEFAULT_CMDLINE), given to both VMMs.
cmdline_base="console=ttyS0 quiet panic=-1 reboot=k"
qemu_cpu=host
# jkvm's PVM quirk set (PvmQuirks.KERNEL_SWITCHES), for QEMU on a PVM host; jkvm adds it by itself.
pvm_switches="noxsave nofsgsbase nopku clearcpuid=141,145,151,158,298,306,308,534"
qemu_switches=
if [ -d /sys/module/kvm_pvm ]; then
    qemu_cpu=host,-arch-capabilities,-cx16
    qemu_switches=" $pvm_switches"
fi

die() { echo "$bench: $*" >&2; exit 1; }

require_kvm() {
    [ -e /dev/kvm ] || die "/dev/kvm does not exist on this machine; no VM can be run"
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || die "/dev/kvm is not readable and writable by $(id -un)"
    [ -d "$debugfs/kvm" ] || mount -t debugfs debugfs "$debugfs" 2>/dev/null || true
    [ -d "$debugfs/kvm" ] || die "no $debugfs/kvm (KVM's exit counters; run as root)"
    command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed"
    if [ ! -f "$kernel" ] && [ -z "${KERNEL:-}" ]; then
        echo "$bench: building the comparison kernel (first use; 15-25 minutes on 2 cores)" >&2
        bash "$root/guests/linux/build-kernel.sh" compare >/dev/null
    fi
    [ -f "$kernel" ] || die "no kernel $kernel"
    [ -f "$busybox" ] || die "no busybox $busybox (guests/linux/build-guests.sh fetches it)"
}

# jkvm's initramfs (`jkvm.jar initramfs --busybox`) with a second cpio archive appended (the kernel
# unpacks concatenated archives) holding /bench.sh, written by the caller's function $1 into the file
# it is given: the kernel passes at most 32 words after ` -- ` to init.
build_initramfs() {
    [ -f "$jar" ] || (cd "$root" && mvn -q -o -DskipTests package)
    java -jar "$jar" initramfs --busybox "$busybox" "$work/initramfs.cpio"
    mkdir "$work/extra"
    "$1" "$work/extra/bench.sh"
    (cd "$work/extra" && echo bench.sh | cpio -o -H newc --quiet) >> "$work/initramfs.cpio"
}

# vm_stats_dir PID: sets stats_dir to KVM's debugfs directory of the one VM of process PID. KVM names
# it <thread id>-<vm fd> after the thread that called KVM_CREATE_VM: QEMU's main thread, but for
# jkvm a JVM thread whose id is not the process id.
vm_stats_dir() {
    local dir tid
    for dir in "$debugfs"/kvm/*-*; do
        tid=${dir##*/}; tid=${tid%-*}
        [ -d "/proc/$1/task/$tid" ] && { stats_dir=$dir; return; }
    done
    die "no KVM debugfs directory for a thread of process $1"
}

# "name=value ..." of KVM's counters in $stats_dir.
kvm_counters() {
    local stat value out=
    for stat in $kvm_stats; do
        # PVM hosts have the files but refuse to read them (EPERM): NA, and jkvm's --exit-stats remain.
        read -r value < "$stats_dir/$stat" 2>/dev/null || value=NA
        out+=" $stat=${value:-NA}"
    done
    echo "$out"
}

# run_vm VMM STEP: boots the guest with `sh /bench.sh STEP` and writes one event per line to
# $work/events, each with the seconds since launch: "init T", "@@ NAME [VALUES] T counters...",
# "status N T", "end T". The console goes to $work/console, the VMM's stderr to $work/stderr.
# At each checkpoint, after KVM's counters are read and before the guest goes on, it calls
# `on_checkpoint NAME [VALUES]` (the caller's: a no-op unless it has work for the host there).
run_vm() {
    local vmm=$1 start line status now from to pid stats_dir=
    vmm_command "$vmm" "$2"
    : > "$work/events"; : > "$work/console"
    start=$EPOCHREALTIME
    coproc VMM { exec "${vmm_cmd[@]}" 2>"$work/stderr"; }
    pid=$VMM_PID
    # Own copies of the pipe ends: bash drops the coprocess's when it exits.
    exec {from}<&"${VMM[0]}" {to}>&"${VMM[1]}"
    while true; do
        line= status=0
        IFS= read -r -t "$step_timeout" -u "$from" line || status=$?
        if [ "$status" -gt 128 ]; then kill "$pid"; fail_run "$vmm" "no console output for ${step_timeout}s"; fi
        if [ "$status" -ne 0 ] && [ -z "$line" ]; then break; fi   # end of output
        now=$(elapsed "$start")
        line=${line%$'\r'}
        printf '%s\n' "$line" >> "$work/console"
        case $line in
            *JKVM-INIT-OK*) echo "init $now" >> "$work/events" ;;
            *JKVM-EXIT=*) echo "status ${line##*JKVM-EXIT=} $now" >> "$work/events" ;;
            *"@@ "*) [ -n "$stats_dir" ] || vm_stats_dir "$pid"
                     echo "@@ ${line##*@@ } $now $(kvm_counters)" >> "$work/events"
                     on_checkpoint ${line##*@@ }
                     echo >&"$to" ;;
        esac
    done
    wait "$pid" || fail_run "$vmm" "the VMM exited with status $?"
    echo "end $(elapsed "$start")" >> "$work/events"
    exec {from}<&- {to}>&-
    grep -q '^status 0 ' "$work/events" || fail_run "$vmm" "the guest command failed"
}

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }

fail_run() {
    echo "$bench: $1: $2; console:" >&2
    cat "$work/console" "$work/stderr" >&2
    exit 1
}

# event FIELD PATTERN: field FIELD of the event line matching PATTERN.
event() { awk -v f="$1" -v p="$2" '$0 ~ p { print $f; exit }' "$work/events"; }
# counter NAME PATTERN: the KVM counter NAME of the checkpoint matching PATTERN.
counter() { grep -E "$2" "$work/events" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

record() { echo "$1 $2 $3" >> "$work/results"; }

# Sum of the "count" column of jkvm's --exit-stats tables (one per vCPU).
exit_stats_total() {
    awk '/^exit reason/ { t = 1; next } /^time in KVM_RUN/ { t = 0 } t { n += $2 } END { print n }' "$work/stderr"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# values VMM METRIC: the values recorded for METRIC and VMM, one a line, in round order (NA left out).
values() {
    awk -v vmm="$1" -v metric="$2" '{ name = $0; sub(/^[^ ]+ /, "", name); sub(/ [^ ]+$/, "", name) }
        $1 == vmm && name == metric && $NF != "NA" { print $NF }' "$work/results"
}

metrics() { sed -E 's/^[^ ]+ (.*) [^ ]+$/\1/' "$work/results" | awk '!seen[$0]++'; }

# One line per metric, in the order first recorded: median jkvm, median QEMU, ratio; then every value.
summarize() {
    local metric j q
    printf '%-40s %12s %12s %10s\n' "median of $rounds rounds" jkvm qemu jkvm/qemu
    metrics | while IFS= read -r metric; do
        j=$(values jkvm "$metric" | median)
        q=$(values qemu "$metric" | median)
        awk -v m="$metric" -v j="$j" -v q="$q" 'BEGIN {
            r = (j != "" && q != "" && q + 0 != 0) ? sprintf("%.2f", j / q) : "-"
            printf "%-40s %12s %12s %10s\n", m, (j == "" ? "-" : j), (q == "" ? "-" : q), r }'
    done
    echo "all rounds (jkvm | qemu):"
    metrics | while IFS= read -r metric; do
        echo "  $metric: $(values jkvm "$metric" | xargs) | $(values qemu "$metric" | xargs)"
    done
}
