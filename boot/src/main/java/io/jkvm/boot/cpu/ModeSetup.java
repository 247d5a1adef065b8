package io.jkvm.boot.cpu;

import io.jkvm.kvm.CpuidEntry;
import io.jkvm.kvm.Register;
import io.jkvm.kvm.Regs;
import io.jkvm.kvm.Sregs;
import io.jkvm.kvm.Vcpu;
import io.jkvm.memory.GuestMemory;
import java.util.List;

/**
 * Puts a vCPU into the processor mode a guest's first instruction expects. {@link #writeTables} writes
 * whatever the mode needs in guest memory (GDT, page tables); {@link #apply} changes the special registers
 * (read them with Vcpu.getSregs(), write them back with Vcpu.setSregs()) so that the segment registers'
 * hidden parts match those tables. {@link #enter} does the whole vCPU side for a simple guest.
 */
public sealed interface ModeSetup permits RealModeSetup, ProtectedModeSetup, LongModeSetup {

    /** CR0.PE: protection enable (SDM Vol. 3A §2.5). */
    long CR0_PE = 1L;
    /** CR0.NW: not write-through. */
    long CR0_NW = 1L << 29;
    /** CR0.CD: cache disable. */
    long CR0_CD = 1L << 30;
    /** CR0.PG: paging. */
    long CR0_PG = 1L << 31;
    /** CR4.PAE: physical address extension, required for long mode. */
    long CR4_PAE = 1L << 5;
    /** IA32_EFER.LME: long mode enable (SDM Vol. 3A §2.2.1). */
    long EFER_LME = 1L << 8;
    /** IA32_EFER.LMA: long mode active. */
    long EFER_LMA = 1L << 10;
    /** RFLAGS bit 1 is reserved and always 1; everything else (IF included) clear. SDM Vol. 1 §3.4.3. */
    long RFLAGS_RESERVED = 0b10;

    void writeTables(GuestMemory memory);

    void apply(Sregs sregs);

    /** General-purpose registers to start at {@code rip}: RFLAGS with interrupts off, all others zero. */
    static Regs startRegs(long rip) {
        return new Regs().set(Register.RIP, rip).set(Register.RFLAGS, RFLAGS_RESERVED);
    }

    /**
     * Readies {@code vcpu} to run a guest in this mode: its CPUID (first: KVM checks EFER.LME and CR4
     * against it), the special registers, then {@code regs} (e.g. {@link #startRegs}). The tables must
     * already be written.
     */
    default void enter(Vcpu vcpu, List<CpuidEntry> cpuid, Regs regs) {
        vcpu.setCpuid2(cpuid);
        Sregs sregs = vcpu.getSregs();
        apply(sregs);
        vcpu.setSregs(sregs);
        vcpu.setRegs(regs);
    }
}
