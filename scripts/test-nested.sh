#!/usr/bin/env bash
# Runs every KVM test class (each test class that calls KvmTests.assumeKvm) inside nested KVM
# (scripts/nested-kvm.sh), with JKVM_REQUIRE_KVM=1 so that none of them may skip. For machines
# without a usable /dev/kvm, such as this project's PVM guests: there the normal test command
# (scripts/test.sh) skips these tests, and this proves them on a real, if emulated, KVM.
#
# Needs what scripts/test.sh has built (classes, guest artifacts in ~/.cache/jkvm) and QEMU with
# virtiofsd (Debian: qemu-system-x86). Takes about 4 minutes on 2 cores.
#
# One vCPU for the nested VM: with two, the nested hypervisor's kernel has been seen to crash (a
# stack-guard hit in its entry code while running a vCPU), which is QEMU TCG's nested SVM, not jkvm.
# A run that ends without a status from inside the VM (the VM itself died: nested-kvm.sh exits 125)
# is retried once, saying so; a test failure never is.
set -euo pipefail
cd "$(dirname "$0")/.."

classes=$(git grep -l 'assumeKvm(' -- '*/src/test/java/*Test.java' | xargs -n1 basename | sed 's/\.java$//' | sort -u | paste -sd, -)
[ -n "$classes" ] || { echo "test-nested: no KVM test classes found" >&2; exit 1; }
echo "test-nested: running $classes under nested KVM"

run() {
    NESTED_SMP=1 JKVM_REQUIRE_KVM=1 scripts/nested-kvm.sh \
        mvn -o -B -ntp test -Dtest="$classes" -Dsurefire.failIfNoSpecifiedTests=false
}
status=0
run || status=$?
if [ "$status" = 125 ]; then
    echo "test-nested: the nested VM died without reporting a status; retrying once" >&2
    status=0
    run || status=$?
fi
exit "$status"
