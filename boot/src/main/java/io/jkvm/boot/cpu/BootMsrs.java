package io.jkvm.boot.cpu;

import io.jkvm.kvm.MsrEntry;
import java.util.List;

/**
 * The model-specific registers a vCPU gets before a 64-bit kernel's first instruction (MSR numbers from
 * Intel SDM Vol. 4, Table 2-2). Fast strings on, MTRRs enabled with write-back as the default memory
 * type, the system-call MSRs zeroed. IA32_ARCH_CAPABILITIES (0x10a) is deliberately absent:
 * PVM fails on a write to it (/work/shared/platform.md).
 */
public final class BootMsrs {
    public static final int IA32_SYSENTER_CS = 0x174;
    public static final int IA32_SYSENTER_ESP = 0x175;
    public static final int IA32_SYSENTER_EIP = 0x176;
    public static final int IA32_MISC_ENABLE = 0x1a0;
    public static final int IA32_MTRR_DEF_TYPE = 0x2ff;
    public static final int IA32_STAR = 0xc000_0081;
    public static final int IA32_LSTAR = 0xc000_0082;
    public static final int IA32_CSTAR = 0xc000_0083;
    public static final int IA32_FMASK = 0xc000_0084;
    public static final int IA32_KERNEL_GS_BASE = 0xc000_0102;

    /** IA32_MISC_ENABLE bit 0: fast-string operations enabled. */
    public static final long MISC_ENABLE_FAST_STRING = 0b1;
    /** IA32_MTRR_DEF_TYPE: E (bit 11, MTRRs enabled) | default type 6 (write-back). SDM Vol. 3A §11.11.2.1. */
    public static final long MTRR_DEF_TYPE_ENABLED_WB = 0b1000_0000_0000 | 0x6;

    /*
     * IA32_TSC is deliberately absent: KVM synchronizes the TSCs of a VM's vCPUs when it creates them, and
     * a later write from userspace is only taken as a synchronization if it comes soon enough after the
     * others. With several vCPUs set up slowly (seen under nested KVM) the writes of 0 desynchronized the
     * TSCs and Linux logged "Marking TSC unstable due to TSCs unsynchronized".
     */
    private static final List<MsrEntry> ENTRIES = List.of(
            new MsrEntry(IA32_SYSENTER_CS, 0),
            new MsrEntry(IA32_SYSENTER_ESP, 0),
            new MsrEntry(IA32_SYSENTER_EIP, 0),
            new MsrEntry(IA32_STAR, 0),
            new MsrEntry(IA32_CSTAR, 0),
            new MsrEntry(IA32_KERNEL_GS_BASE, 0),
            new MsrEntry(IA32_FMASK, 0),
            new MsrEntry(IA32_LSTAR, 0),
            new MsrEntry(IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING),
            new MsrEntry(IA32_MTRR_DEF_TYPE, MTRR_DEF_TYPE_ENABLED_WB));

    private BootMsrs() {}

    /** The entries to pass to Vcpu.setMsrs(). */
    public static List<MsrEntry> entries() {
        return ENTRIES;
    }
}
