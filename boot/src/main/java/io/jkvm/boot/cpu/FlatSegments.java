package io.jkvm.boot.cpu;

import io.jkvm.kvm.DTable;
import io.jkvm.kvm.SegmentRegister;
import io.jkvm.kvm.Sregs;

/**
 * Loads a {@link Gdt}'s segments into the segment registers as if the guest had run {@code lgdt}, a far
 * jump to {@link Gdt#CODE_SELECTOR}, loads of {@link Gdt#DATA_SELECTOR} into DS, ES, FS, GS, SS and
 * {@code ltr} of {@link Gdt#TSS_SELECTOR}: the Linux boot protocol's "CS must be __BOOT_CS and DS, ES, SS
 * must be __BOOT_DS". The IDT is empty (limit 0): interrupts are off at entry and an exception before the
 * guest loads its own IDT shuts the vCPU down, which the VMM sees.
 */
final class FlatSegments {
    private static final SegmentRegister[] DATA = {
        SegmentRegister.DS, SegmentRegister.ES, SegmentRegister.FS, SegmentRegister.GS, SegmentRegister.SS
    };

    private FlatSegments() {}

    static void load(Sregs sregs, Gdt gdt, long gdtAddress) {
        sregs.gdt(new DTable(gdtAddress, gdt.limit()));
        sregs.idt(new DTable(0, 0));
        sregs.segment(SegmentRegister.CS, gdt.code().toSegment(Gdt.CODE_SELECTOR));
        for (SegmentRegister r : DATA) sregs.segment(r, gdt.data().toSegment(Gdt.DATA_SELECTOR));
        sregs.segment(SegmentRegister.TR, gdt.tss().toSegment(Gdt.TSS_SELECTOR));
    }
}
