package io.jkvm.boot.machine;

import java.util.List;

/**
 * What jkvm adds to the kernel command line when /dev/kvm is PVM (../shared/platform.md). PVM shows the
 * host's XSAVE, SMAP, FSGSBASE, ... bits to the guest whatever the VMM's CPUID says, and its instruction
 * emulator (which runs guest kernel code) lacks xrstor(s), popcnt, cmpxchg16b and friends, so the guest
 * must be told on the command line not to use them. CPUID masking (CX16) and the int3/fwait emulation
 * exits are handled elsewhere (CpuidPatcher, the vCPU run loop). None of this applies on VT-x/SVM hosts.
 */
final class PvmQuirks {
    private PvmQuirks() {}

    /**
     * clearcpuid takes feature numbers (word * 32 + bit, arch/x86/include/asm/cpufeatures.h), which
     * kernels without CONFIG_X86_FEATURE_NAMES also understand: CX16=141 PCID=145 POPCNT=151
     * RDRAND=158 INVPCID=298 RDSEED=306 SMAP=308 RDPID=534.
     */
    static final List<String> KERNEL_SWITCHES = List.of(
            "noxsave", "nofsgsbase", "nopku", "clearcpuid=141,145,151,158,298,306,308,534");
}
