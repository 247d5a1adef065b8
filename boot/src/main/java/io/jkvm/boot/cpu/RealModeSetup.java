package io.jkvm.boot.cpu;

import io.jkvm.kvm.ControlRegister;
import io.jkvm.kvm.SegmentRegister;
import io.jkvm.kvm.Sregs;
import io.jkvm.memory.GuestMemory;

/**
 * 16-bit real mode with every segment register at selector {@code segment} (base = segment × 16), so the
 * first instruction is at guest-physical {@code segment × 16 + IP}. Protection and paging off; TR and LDT
 * keep KVM's reset state. Needs no tables in guest memory (the IVT is the guest's).
 */
public record RealModeSetup(int segment) implements ModeSetup {
    private static final SegmentRegister[] DATA = {
        SegmentRegister.DS, SegmentRegister.ES, SegmentRegister.FS, SegmentRegister.GS, SegmentRegister.SS
    };

    public RealModeSetup {
        if ((segment & ~0xffff) != 0) throw new IllegalArgumentException("segment is 16 bits: " + segment);
    }

    @Override
    public void writeTables(GuestMemory memory) {}

    @Override
    public void apply(Sregs sregs) {
        sregs.segment(SegmentRegister.CS, SegmentDescriptor.realMode(segment, true).toSegment(segment));
        for (SegmentRegister r : DATA) sregs.segment(r, SegmentDescriptor.realMode(segment, false).toSegment(segment));
        sregs.set(ControlRegister.CR0, sregs.get(ControlRegister.CR0) & ~(CR0_PE | CR0_PG));
        sregs.set(ControlRegister.EFER, sregs.get(ControlRegister.EFER) & ~(EFER_LME | EFER_LMA));
    }
}
