package io.jkvm.boot.cpu;

import io.jkvm.boot.Layout;
import io.jkvm.boot.loader.EntryKind;
import io.jkvm.kvm.CpuidEntry;
import io.jkvm.kvm.MsrEntry;
import io.jkvm.kvm.Register;
import io.jkvm.kvm.Regs;
import io.jkvm.kvm.Vcpu;
import io.jkvm.memory.GuestMemory;
import java.util.List;

/**
 * The vCPU state a Linux machine starts with: what firmware would leave behind on every processor
 * (CPUID, boot MSRs, FPU, LAPIC LINT0/LINT1 wiring) and, on the boot processor, the CPU mode and
 * registers the kernel's entry point expects. Application processors only get the per-CPU part: the
 * in-kernel LAPIC holds them in wait-for-SIPI until the kernel starts them (KVM_MP_STATE_UNINITIALIZED).
 */
public final class BootCpu {
    /** Identity-map the whole 32-bit space: kernel, zero page, command line, initrd and tables all lie below 4 GiB. */
    private static final int IDENTITY_MAPPED_GIB = 4;

    /** MSR_K7_HWCR (AMD PPR for family 19h, MSRC001_0015: Hardware Configuration). */
    public static final int MSR_K7_HWCR = 0xc001_0015;
    /**
     * HWCR bit 24, TscFreqSel: the TSC counts at the P0 frequency. Linux prints "[Firmware Bug]: TSC doesn't
     * count with P0 frequency!" for an AMD CPU of family 0x11 or later that has a constant TSC and this bit
     * clear (arch/x86/kernel/cpu/amd.c, bsp_init_amd), as it was on PVM (../shared/pvm/2026-12-02). KVM takes
     * it from a host-initiated KVM_SET_MSRS since Linux 6.7 and refuses it before.
     */
    public static final long HWCR_TSC_FREQ_SEL = 1L << 24;

    private final CpuidPatcher cpuid;
    /** HWCR is an AMD MSR: set only where KVM presents an AMD CPU. */
    private final boolean amd;
    private boolean tscFreqSelRefused;

    /**
     * @param supported KVM_GET_SUPPORTED_CPUID
     * @param pvm       /dev/kvm is PVM: apply its CPUID masks
     */
    public BootCpu(List<CpuidEntry> supported, boolean pvm) {
        this.cpuid = new CpuidPatcher(supported, pvm);
        this.amd = cpuid.isAmd();
    }

    /** The CPU mode of a kernel entry: long mode for the 64-bit boot protocol, 32-bit flat for PVH. */
    public static ModeSetup modeFor(EntryKind kind) {
        return switch (kind) {
            case LINUX_64 -> new LongModeSetup(Layout.GDT, new PageTables(Layout.PML4, IDENTITY_MAPPED_GIB));
            case PVH_32 -> new ProtectedModeSetup(Layout.GDT);
        };
    }

    /**
     * The registers at a kernel entry: RIP/EIP = {@code entry}, interrupts off, all else zero but the boot
     * information pointer, where the protocol wants it (boot.rst 64-bit protocol: RSI = zero page; PVH:
     * EBX = hvm_start_info).
     */
    public static Regs entryRegs(EntryKind kind, long entry, long bootInfo) {
        Register pointer = switch (kind) {
            case LINUX_64 -> Register.RSI;
            case PVH_32 -> Register.RBX;
        };
        return ModeSetup.startRegs(entry).set(pointer, bootInfo);
    }

    /** Writes the GDT (and page tables for long mode) that the boot processor's entry state refers to. */
    public void writeTables(GuestMemory memory, EntryKind kind) {
        modeFor(kind).writeTables(memory);
    }

    /**
     * Readies the boot processor to run a kernel's first instruction at {@code entry} with its boot
     * information at {@code bootInfo}. Needs the in-kernel irqchip (for the LAPIC state); the tables must
     * be written. CPUID goes first: KVM checks EFER and CR4 against it.
     */
    public void applyBootProcessor(Vcpu vcpu, EntryKind kind, long entry, long bootInfo) {
        modeFor(kind).enter(vcpu, cpuid.forVcpu(vcpu.id()), entryRegs(kind, entry, bootInfo));
        applyFirmwareState(vcpu);
    }

    /** Readies an application processor: its CPUID and firmware state; the kernel starts it with INIT/SIPI. */
    public void applyApplicationProcessor(Vcpu vcpu) {
        vcpu.setCpuid2(cpuid.forVcpu(vcpu.id()));
        applyFirmwareState(vcpu);
    }

    /**
     * Whether KVM refused HWCR.TscFreqSel on an AMD vCPU (then an AMD guest with a constant TSC logs the
     * firmware-bug line; logged once as a warning here too).
     */
    public boolean tscFreqSelRefused() {
        return tscFreqSelRefused;
    }

    /** CPUID must already be set: KVM checks MSR writes against it. */
    private void applyFirmwareState(Vcpu vcpu) {
        vcpu.setMsrs(BootMsrs.entries());
        if (amd && !vcpu.trySetMsr(new MsrEntry(MSR_K7_HWCR, HWCR_TSC_FREQ_SEL)) && !tscFreqSelRefused) {
            tscFreqSelRefused = true;
            System.getLogger(BootCpu.class.getName()).log(System.Logger.Level.WARNING, "KVM refused MSR_K7_HWCR."
                    + "TscFreqSel (host kernel before 6.7?): an AMD guest that sees a constant TSC will log"
                    + " \"TSC doesn't count with P0 frequency\"");
        }
        vcpu.setFpu(BootFpu.state());
        vcpu.setLapic(Lapic.configureLocalInterrupts(vcpu.getLapic()));
    }
}
