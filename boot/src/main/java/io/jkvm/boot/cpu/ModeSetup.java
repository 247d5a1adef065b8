package io.jkvm.boot.cpu;

import io.jkvm.kvm.Sregs;
import io.jkvm.memory.GuestMemory;

/**
 * Puts a vCPU into the processor mode a guest's first instruction expects. {@link #writeTables} writes
 * whatever the mode needs in guest memory (GDT, page tables); {@link #apply} changes the special registers
 * (read them with Vcpu.getSregs(), write them back with Vcpu.setSregs()) so that the segment registers'
 * hidden parts match those tables. General-purpose registers (RIP, RFLAGS) are the caller's.
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
}
