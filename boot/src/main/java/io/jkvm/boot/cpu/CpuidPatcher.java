package io.jkvm.boot.cpu;

import io.jkvm.kvm.CpuidEntry;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the CPUID that KVM supports (Kvm.supportedCpuid()) into one vCPU's CPUID (for Vcpu.setCpuid()):
 * <ul>
 * <li>leaf 1: initial APIC id in EBX[31:24], hypervisor-present bit ECX[31] (SDM Vol. 2A CPUID; bit 31
 *     reserved for hypervisors per the Linux/KVM convention, Documentation/virt/kvm/x86/cpuid.rst);</li>
 * <li>leaves 0xB and 0x1F (extended topology): the x2APIC id in EDX of every sub-leaf;</li>
 * <li>leaf 0x40000000: the KVM signature "KVMKVMKVM\0\0\0", highest hypervisor leaf 0x40000001;</li>
 * <li>leaf 0x40000001: KVM paravirtual features as supported, kvmclock on, but none that needs a KVM
 *     hypercall or the poll-control MSR (PVM does not complete hypercalls from an unmodified guest,
 *     /work/shared/platform.md);</li>
 * <li>on PVM only: CMPXCHG16B hidden (leaf 1 ECX[13]): PVM's instruction emulator lacks it.</li>
 * </ul>
 * Other leaves pass through unchanged.
 */
public final class CpuidPatcher {
    public static final int LEAF_VENDOR = 0x0;
    public static final int LEAF_FEATURES = 0x1;
    public static final int LEAF_EXTENDED_TOPOLOGY = 0xb;
    public static final int LEAF_EXTENDED_TOPOLOGY_V2 = 0x1f;
    public static final int LEAF_KVM_SIGNATURE = 0x4000_0000;
    public static final int LEAF_KVM_FEATURES = 0x4000_0001;

    /** Leaf 1 ECX[13]: CMPXCHG16B. */
    public static final int ECX_CX16 = 1 << 13;
    /** Leaf 1 ECX[31]: running under a hypervisor. */
    public static final int ECX_HYPERVISOR = 1 << 31;
    /**
     * Leaf 1 ECX[24], TSC-deadline mode of the LAPIC timer (SDM Vol. 3A §10.5.4.1). KVM's in-kernel LAPIC
     * implements it but KVM_GET_SUPPORTED_CPUID does not report it (api.rst: KVM_CAP_TSC_DEADLINE_TIMER).
     * It matters here: on an ACPI hardware-reduced machine Linux has no PIT to calibrate the LAPIC timer
     * against, and in TSC-deadline mode it needs no calibration (its TSC rate comes from kvmclock).
     */
    public static final int ECX_TSC_DEADLINE = 1 << 24;
    private static final int EBX_APIC_ID_SHIFT = 24;
    private static final int EBX_APIC_ID_MASK = 0xff << EBX_APIC_ID_SHIFT;

    /** "AuthenticAMD" as EBX, EDX, ECX of leaf 0 (AMD APM Vol. 3, CPUID Fn0000_0000). */
    static final int AMD_EBX = 0x6874_7541, AMD_EDX = 0x6974_6e65, AMD_ECX = 0x444d_4163;

    /** "KVMKVMKVM\0\0\0" as EBX, ECX, EDX of leaf 0x40000000 (Documentation/virt/kvm/x86/cpuid.rst). */
    static final int SIGNATURE_EBX = 0x4b4d_564b, SIGNATURE_ECX = 0x564b_4d56, SIGNATURE_EDX = 0x4d;

    // KVM_FEATURE_* bits of leaf 0x40000001 EAX (arch/x86/include/uapi/asm/kvm_para.h).
    public static final int KVM_FEATURE_CLOCKSOURCE = 1 << 0;
    public static final int KVM_FEATURE_CLOCKSOURCE2 = 1 << 3;
    /** Needs the KVM_HC_KICK_CPU hypercall. */
    public static final int KVM_FEATURE_PV_UNHALT = 1 << 7;
    /** Needs the KVM_HC_SEND_IPI hypercall. */
    public static final int KVM_FEATURE_PV_SEND_IPI = 1 << 11;
    /** Needs MSR_KVM_POLL_CONTROL. */
    public static final int KVM_FEATURE_POLL_CONTROL = 1 << 12;
    /** Needs the KVM_HC_SCHED_YIELD hypercall. */
    public static final int KVM_FEATURE_PV_SCHED_YIELD = 1 << 13;
    /** Needs the KVM_HC_MAP_GPA_RANGE hypercall. */
    public static final int KVM_FEATURE_HC_MAP_GPA_RANGE = 1 << 16;

    static final int KVMCLOCK = KVM_FEATURE_CLOCKSOURCE | KVM_FEATURE_CLOCKSOURCE2;
    static final int HIDDEN_KVM_FEATURES = KVM_FEATURE_PV_UNHALT | KVM_FEATURE_PV_SEND_IPI
            | KVM_FEATURE_POLL_CONTROL | KVM_FEATURE_PV_SCHED_YIELD | KVM_FEATURE_HC_MAP_GPA_RANGE;

    private final List<CpuidEntry> supported;
    private final boolean pvm;

    /** @param pvm whether the host's KVM is PVM (Kvm.isPvm()) */
    public CpuidPatcher(List<CpuidEntry> supported, boolean pvm) {
        this.supported = List.copyOf(supported);
        this.pvm = pvm;
    }

    /** Whether the CPU KVM presents is an AMD one (leaf 0 vendor "AuthenticAMD"). */
    public boolean isAmd() {
        return supported.stream().anyMatch(e -> e.function() == LEAF_VENDOR
                && e.ebx() == AMD_EBX && e.edx() == AMD_EDX && e.ecx() == AMD_ECX);
    }

    /** The CPUID for the vCPU whose (x2)APIC id is {@code apicId} (0..255: leaf 1 has 8 bits for it). */
    public List<CpuidEntry> forVcpu(int apicId) {
        if ((apicId & ~0xff) != 0) throw new IllegalArgumentException("APIC id must be 0..255: " + apicId);
        List<CpuidEntry> out = new ArrayList<>(supported.size() + 2);
        int kvmFeatures = 0;
        for (CpuidEntry e : supported) {
            switch (e.function()) {
                case LEAF_FEATURES -> out.add(features(e, apicId));
                case LEAF_EXTENDED_TOPOLOGY, LEAF_EXTENDED_TOPOLOGY_V2 ->
                        out.add(e.withRegisters(e.eax(), e.ebx(), e.ecx(), apicId));
                case LEAF_KVM_FEATURES -> kvmFeatures = e.eax();
                case LEAF_KVM_SIGNATURE -> { } // replaced below
                default -> out.add(e);
            }
        }
        out.add(new CpuidEntry(LEAF_KVM_SIGNATURE, 0, 0, LEAF_KVM_FEATURES, SIGNATURE_EBX, SIGNATURE_ECX,
                SIGNATURE_EDX));
        out.add(new CpuidEntry(LEAF_KVM_FEATURES, 0, 0, (kvmFeatures & ~HIDDEN_KVM_FEATURES) | KVMCLOCK, 0, 0, 0));
        return out;
    }

    private CpuidEntry features(CpuidEntry e, int apicId) {
        int ebx = (e.ebx() & ~EBX_APIC_ID_MASK) | apicId << EBX_APIC_ID_SHIFT;
        int ecx = e.ecx() | ECX_HYPERVISOR | ECX_TSC_DEADLINE;
        if (pvm) ecx &= ~ECX_CX16;
        return e.withRegisters(e.eax(), ebx, ecx, e.edx());
    }
}
