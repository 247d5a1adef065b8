package io.jkvm.boot.cpu;

import io.jkvm.kvm.Register;
import io.jkvm.kvm.Regs;
import io.jkvm.kvm.Vcpu;

/**
 * The vCPU state at a 64-bit Linux kernel's entry, per Documentation/arch/x86/boot.rst "64-bit BOOT
 * PROTOCOL": long mode with identity-mapped page tables and flat __BOOT_CS/__BOOT_DS segments
 * ({@link LongModeSetup}), interrupts disabled, RSI = the zero page (struct boot_params), RIP = the
 * 64-bit entry point (load address + 0x200 for a bzImage's protected-mode part). Plus what firmware would
 * otherwise have done: FPU init ({@link BootFpu}), boot MSRs ({@link BootMsrs}), LAPIC LINT0/LINT1 wiring
 * ({@link Lapic}), and this vCPU's CPUID ({@link CpuidPatcher}).
 *
 * @param mode  the long-mode tables; the caller writes them once with {@code mode.writeTables(memory)}
 * @param cpuid CPUID source shared by all vCPUs
 */
public record Linux64Entry(LongModeSetup mode, CpuidPatcher cpuid) {

    /** The general-purpose registers at entry: RIP, RSI, RFLAGS with IF clear; all others zero. */
    public static Regs entryRegs(long entry, long zeroPage) {
        return ModeSetup.startRegs(entry).set(Register.RSI, zeroPage);
    }

    /**
     * Sets up {@code vcpu} (on the thread that will run it) for entry at {@code entry} with the zero page
     * at {@code zeroPage}. Needs the in-kernel irqchip (KVM_CREATE_IRQCHIP) for the LAPIC state. CPUID goes
     * first: KVM checks later MSR, EFER and CR4 writes against the guest's CPUID. The vCPU's id is its
     * APIC id (KVM_CREATE_VCPU's default).
     */
    public void apply(Vcpu vcpu, long entry, long zeroPage) {
        mode.enter(vcpu, cpuid.forVcpu(vcpu.id()), entryRegs(entry, zeroPage));
        vcpu.setMsrs(BootMsrs.entries());
        vcpu.setFpu(BootFpu.state());
        vcpu.setLapic(Lapic.configureLocalInterrupts(vcpu.getLapic()));
    }
}
