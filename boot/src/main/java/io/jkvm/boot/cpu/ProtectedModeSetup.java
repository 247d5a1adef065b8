package io.jkvm.boot.cpu;

import io.jkvm.kvm.ControlRegister;
import io.jkvm.kvm.Sregs;
import io.jkvm.memory.GuestMemory;

/**
 * 32-bit protected mode, paging off, flat 4 GiB segments from a {@link Gdt#protectedMode()} table at
 * {@code gdtAddress} (the state the Linux "32-bit BOOT PROTOCOL" asks for). Caches enabled (CD, NW clear).
 */
public record ProtectedModeSetup(long gdtAddress) implements ModeSetup {
    private static final Gdt GDT = Gdt.protectedMode();

    @Override
    public void writeTables(GuestMemory memory) {
        GDT.writeTo(memory, gdtAddress);
    }

    @Override
    public void apply(Sregs sregs) {
        FlatSegments.load(sregs, GDT, gdtAddress);
        long cr0 = sregs.get(ControlRegister.CR0) & ~(CR0_CD | CR0_NW | CR0_PG);
        sregs.set(ControlRegister.CR0, cr0 | CR0_PE);
        sregs.set(ControlRegister.EFER, sregs.get(ControlRegister.EFER) & ~(EFER_LME | EFER_LMA));
    }
}
