package io.jkvm.boot.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.kvm.ControlRegister;
import io.jkvm.kvm.DTable;
import io.jkvm.kvm.Segment;
import io.jkvm.kvm.SegmentRegister;
import io.jkvm.kvm.Sregs;
import io.jkvm.memory.GuestMemory;
import org.junit.jupiter.api.Test;

class ModeSetupTest {
    /** CR0 after a reset: CD | NW | ET (SDM Vol. 3A Table 9-1). */
    private static final long CR0_RESET = 0x6000_0010L;
    private static final long CR0_ET = 0x10;

    /** An Sregs as KVM_GET_SREGS returns it after vCPU creation (the SDM's reset state). */
    private static Sregs resetState() {
        Sregs s = new Sregs();
        for (SegmentRegister r : SegmentRegister.values())
            s.segment(r, new Segment(0, 0xffff, 0, 0b0011, true, 0, false, true, false, false, false, false));
        s.segment(SegmentRegister.CS, new Segment(0xffff_0000L, 0xffff, 0xf000, 0b1011, true, 0, false, true, false,
                false, false, false));
        s.segment(SegmentRegister.TR, new Segment(0, 0xffff, 0, 0b1011, true, 0, false, false, false, false, false,
                false));
        s.segment(SegmentRegister.LDT, new Segment(0, 0xffff, 0, 0b0010, true, 0, false, false, false, false, false,
                false));
        s.idt(new DTable(0, 0xffff));
        return s.set(ControlRegister.CR0, CR0_RESET);
    }

    /** The segment-register state a CPU loads from the descriptor at {@code selector} (SDM §3.4.5). */
    private static Segment loadFromGdt(GuestMemory m, DTable gdt, int selector) {
        assertTrue(selector + 7 <= gdt.limit(), "selector beyond GDTR limit");
        long d = m.readLong(gdt.base() + selector);
        long base = ((d >>> 16) & 0xff_ffff) | ((d >>> 56) << 24);
        int rawLimit = (int) ((d & 0xffff) | ((d >>> 48) & 0xf) << 16);
        boolean g = ((d >>> 55) & 1) != 0;
        int limit = g ? rawLimit << 12 | 0xfff : rawLimit;
        return new Segment(base, limit, selector, (int) (d >>> 40) & 0xf, ((d >>> 47) & 1) != 0,
                (int) (d >>> 45) & 0b11, ((d >>> 54) & 1) != 0, ((d >>> 44) & 1) != 0, ((d >>> 53) & 1) != 0, g,
                ((d >>> 52) & 1) != 0, false);
    }

    private static void assertSegmentsMatchGdt(GuestMemory m, Sregs s) {
        for (SegmentRegister r : new SegmentRegister[] {SegmentRegister.CS, SegmentRegister.DS, SegmentRegister.ES,
                SegmentRegister.FS, SegmentRegister.GS, SegmentRegister.SS, SegmentRegister.TR}) {
            Segment seg = s.segment(r);
            assertEquals(loadFromGdt(m, s.gdt(), seg.selector()), seg, r.name());
        }
        assertEquals(Gdt.CODE_SELECTOR, s.segment(SegmentRegister.CS).selector());
        assertEquals(Gdt.DATA_SELECTOR, s.segment(SegmentRegister.SS).selector());
        assertEquals(Gdt.TSS_SELECTOR, s.segment(SegmentRegister.TR).selector());
        assertEquals(new DTable(0, 0), s.idt());
    }

    @Test
    void longModeMatchesItsTablesAndTurnsOnPaging() {
        try (GuestMemory m = GuestMemory.allocate(0x20000)) {
            LongModeSetup setup = new LongModeSetup(0x500, new PageTables(0x9000, 1));
            setup.writeTables(m);
            Sregs s = resetState();
            Segment ldt = s.segment(SegmentRegister.LDT);
            setup.apply(s);
            assertSegmentsMatchGdt(m, s);
            Segment cs = s.segment(SegmentRegister.CS);
            assertTrue(cs.l() && !cs.db(), "64-bit code segment");
            assertEquals(0xffff_ffffL, Integer.toUnsignedLong(s.segment(SegmentRegister.DS).limit()));
            assertEquals(new DTable(0x500, Gdt.SIZE - 1), s.gdt());
            assertEquals(0x9000, s.get(ControlRegister.CR3));
            assertEquals(ModeSetup.CR4_PAE, s.get(ControlRegister.CR4));
            assertEquals(CR0_ET | ModeSetup.CR0_PE | ModeSetup.CR0_PG, s.get(ControlRegister.CR0));
            assertEquals(ModeSetup.EFER_LME | ModeSetup.EFER_LMA, s.get(ControlRegister.EFER));
            assertSame(ldt, s.segment(SegmentRegister.LDT), "LDT keeps its reset state");
            assertEquals(0xa000 | 0b11, m.readLong(0x9000), "PML4 written: PDPT present, writable");
        }
    }

    @Test
    void protectedModeHasFlat32BitSegmentsAndNoPaging() {
        try (GuestMemory m = GuestMemory.allocate(0x1000)) {
            ProtectedModeSetup setup = new ProtectedModeSetup(0x600);
            setup.writeTables(m);
            Sregs s = resetState().set(ControlRegister.EFER, ModeSetup.EFER_LME)
                    .set(ControlRegister.CR0, CR0_RESET | ModeSetup.CR0_PG);
            setup.apply(s);
            assertSegmentsMatchGdt(m, s);
            Segment cs = s.segment(SegmentRegister.CS);
            assertTrue(cs.db() && !cs.l(), "32-bit code segment");
            assertEquals(0, cs.base());
            assertEquals(CR0_ET | ModeSetup.CR0_PE, s.get(ControlRegister.CR0));
            assertEquals(0, s.get(ControlRegister.EFER));
        }
    }

    @Test
    void realModeSegmentsStartAtSixteenTimesTheSegment() {
        Sregs s = resetState().set(ControlRegister.CR0, CR0_RESET | ModeSetup.CR0_PE);
        new RealModeSetup(0x100).apply(s);
        for (SegmentRegister r : new SegmentRegister[] {SegmentRegister.CS, SegmentRegister.DS, SegmentRegister.SS}) {
            Segment seg = s.segment(r);
            assertEquals(0x1000, seg.base(), r.name());
            assertEquals(0x100, seg.selector(), r.name());
            assertEquals(0xffff, seg.limit(), r.name());
            assertFalse(seg.db() || seg.l() || seg.g(), r.name());
        }
        assertEquals(SegmentDescriptor.TYPE_CODE_EXEC_READ_ACCESSED, s.segment(SegmentRegister.CS).type());
        assertEquals(CR0_RESET, s.get(ControlRegister.CR0));
        assertThrows(IllegalArgumentException.class, () -> new RealModeSetup(0x10000));
    }
}
