package io.jkvm.boot.cpu;

import io.jkvm.kvm.ControlRegister;
import io.jkvm.kvm.Sregs;
import io.jkvm.memory.GuestMemory;

/**
 * 64-bit long mode (SDM Vol. 3A §9.8.5, as if the guest had done the switch itself): a
 * {@link Gdt#longMode()} table at {@code gdtAddress}, identity-mapping {@code pageTables} in CR3,
 * CR4.PAE, CR0.PE|PG, EFER.LME|LMA. This is the CPU part of the Linux "64-bit BOOT PROTOCOL"
 * (Documentation/arch/x86/boot.rst): 64-bit mode, paging on, __BOOT_CS/__BOOT_DS flat segments; the page
 * tables must identity-map the kernel, the zero page and the command line.
 */
public record LongModeSetup(long gdtAddress, PageTables pageTables) implements ModeSetup {
    private static final Gdt GDT = Gdt.longMode();

    @Override
    public void writeTables(GuestMemory memory) {
        GDT.writeTo(memory, gdtAddress);
        pageTables.writeTo(memory);
    }

    @Override
    public void apply(Sregs sregs) {
        FlatSegments.load(sregs, GDT, gdtAddress);
        sregs.set(ControlRegister.CR3, pageTables.cr3());
        sregs.set(ControlRegister.CR4, sregs.get(ControlRegister.CR4) | CR4_PAE);
        long cr0 = sregs.get(ControlRegister.CR0) & ~(CR0_CD | CR0_NW);
        sregs.set(ControlRegister.CR0, cr0 | CR0_PE | CR0_PG);
        sregs.set(ControlRegister.EFER, sregs.get(ControlRegister.EFER) | EFER_LME | EFER_LMA);
    }
}
