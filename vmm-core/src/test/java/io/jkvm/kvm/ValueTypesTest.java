package io.jkvm.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.kvm.sys.KvmStructs;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Java value types against the struct bytes KVM reads and writes. */
class ValueTypesTest {
    @Test
    void regsLandAtTheirKernelOffsets() {
        Regs regs = new Regs();
        for (Register r : Register.values()) regs.set(r, 0x100 + r.ordinal());
        ByteBuffer b = Structs.allocate(KvmStructs.Regs.SIZE);
        regs.write(b);
        assertEquals(0x100 + Register.RIP.ordinal(), b.getLong(KvmStructs.Regs.RIP));
        assertEquals(0x100 + Register.RFLAGS.ordinal(), b.getLong(KvmStructs.Regs.RFLAGS));
        assertEquals(0x100 + Register.R8.ordinal(), b.getLong(KvmStructs.Regs.R8));
        assertEquals(0x100 + Register.RSP.ordinal(), b.getLong(KvmStructs.Regs.RSP));
        Regs back = Regs.read(b);
        for (Register r : Register.values()) assertEquals(regs.get(r), back.get(r), r.name());
        assertTrue(back.toString().contains("rip   =0000000000000110"), back.toString());
    }

    @Test
    void sregsRoundTripAndOffsets() {
        Sregs s = new Sregs();
        for (SegmentRegister r : SegmentRegister.values())
            s.segment(r, new Segment(0x1000L * (r.ordinal() + 1), 0xffff, 8 * r.ordinal(), 0xb, true, 0, false, true,
                    r == SegmentRegister.CS, true, false, r == SegmentRegister.LDT));
        for (ControlRegister r : ControlRegister.values()) s.set(r, 0xc0 + r.ordinal());
        s.gdt(new DTable(0x500, 0x1f)).idt(new DTable(0x520, 0xfff)).interruptBitmap(3, 1L << 63);
        ByteBuffer b = Structs.allocate(KvmStructs.Sregs.SIZE);
        s.write(b);
        assertEquals(8 * SegmentRegister.TR.ordinal(), b.getShort(KvmStructs.Sregs.TR + KvmStructs.Segment.SELECTOR));
        assertEquals(1, b.get(KvmStructs.Sregs.CS + KvmStructs.Segment.L));
        assertEquals(0, b.get(KvmStructs.Sregs.DS + KvmStructs.Segment.L));
        assertEquals(1, b.get(KvmStructs.Sregs.LDT + KvmStructs.Segment.UNUSABLE));
        assertEquals(0xc0 + ControlRegister.CR3.ordinal(), b.getLong(KvmStructs.Sregs.CR3));
        assertEquals(0xc0 + ControlRegister.EFER.ordinal(), b.getLong(KvmStructs.Sregs.EFER));
        assertEquals(0xc0 + ControlRegister.APIC_BASE.ordinal(), b.getLong(KvmStructs.Sregs.APIC_BASE));
        assertEquals(0x520, b.getLong(KvmStructs.Sregs.IDT + KvmStructs.Dtable.BASE));
        assertEquals(0xfff, b.getShort(KvmStructs.Sregs.IDT + KvmStructs.Dtable.LIMIT));
        assertEquals(1L << 63, b.getLong(KvmStructs.Sregs.INTERRUPT_BITMAP + 24));
        Sregs back = Sregs.read(b);
        for (SegmentRegister r : SegmentRegister.values()) assertEquals(s.segment(r), back.segment(r), r.name());
        for (ControlRegister r : ControlRegister.values()) assertEquals(s.get(r), back.get(r), r.name());
        assertEquals(s.gdt(), back.gdt());
        assertEquals(s.idt(), back.idt());
        assertEquals(1L << 63, back.interruptBitmap(3));
    }

    @Test
    void sregsWithoutAllSegmentsCannotBeWritten() {
        assertThrows(IllegalStateException.class, () -> new Sregs().write(Structs.allocate(KvmStructs.Sregs.SIZE)));
    }

    @Test
    void segmentFieldsAreUnsigned() {
        ByteBuffer b = Structs.allocate(KvmStructs.Segment.SIZE);
        new Segment(-1L, 0xffff_ffff, 0xfff8, 0xf, true, 3, true, true, false, true, true, false).write(b, 0);
        Segment back = Segment.read(b, 0);
        assertEquals(0xfff8, back.selector());
        assertEquals(3, back.dpl());
        assertEquals(-1L, back.base());
    }

    @Test
    void fpuRoundTrip() {
        Fpu f = new Fpu().fcw(0x37f).fsw(0x8000).ftwx(0xff).lastOpcode(0x7ff).lastIp(0x1234).lastDp(0x5678).mxcsr(0x1f80);
        f.fpr()[127] = 7;
        f.xmm()[0] = 9;
        ByteBuffer b = Structs.allocate(KvmStructs.Fpu.SIZE);
        f.write(b);
        assertEquals(0x37f, b.getShort(KvmStructs.Fpu.FCW));
        assertEquals(0x1f80, b.getInt(KvmStructs.Fpu.MXCSR));
        assertEquals(7, b.get(KvmStructs.Fpu.FPR + 127));
        assertEquals(9, b.get(KvmStructs.Fpu.XMM));
        Fpu back = Fpu.read(b);
        assertEquals(0x8000, back.fsw());
        assertEquals(0xff, back.ftwx());
        assertEquals(0x7ff, back.lastOpcode());
        assertEquals(0x1234, back.lastIp());
        assertEquals(0x5678, back.lastDp());
        assertArrayEquals(f.fpr(), back.fpr());
        assertArrayEquals(f.xmm(), back.xmm());
    }

    @Test
    void vcpuEventsRoundTrip() {
        VcpuEvents e = new VcpuEvents(new VcpuEvents.ExceptionEvent(true, 14, true, false, 0x2),
                new VcpuEvents.InterruptEvent(true, 0x30, false, 1), new VcpuEvents.NmiState(false, true, true),
                0x9a, 0b101, new VcpuEvents.SmiState(false, true, false, true), true, true, 0xdead_beefL);
        ByteBuffer b = Structs.allocate(KvmStructs.VcpuEvents.SIZE);
        e.write(b);
        assertEquals(14, b.get(KvmStructs.VcpuEvents.EXCEPTION_NR));
        assertEquals(2, b.getInt(KvmStructs.VcpuEvents.EXCEPTION_ERROR_CODE));
        assertEquals(0x30, b.get(KvmStructs.VcpuEvents.INTERRUPT_NR));
        assertEquals(1, b.get(KvmStructs.VcpuEvents.NMI_MASKED));
        assertEquals(0b101, b.getInt(KvmStructs.VcpuEvents.FLAGS));
        assertEquals(1, b.get(KvmStructs.VcpuEvents.TRIPLE_FAULT_PENDING));
        assertEquals(0xdead_beefL, b.getLong(KvmStructs.VcpuEvents.EXCEPTION_PAYLOAD));
        assertEquals(e, VcpuEvents.read(b));
    }

    @Test
    void injectingAnExceptionLeavesTheOtherEventsAlone() {
        ByteBuffer b = Structs.allocate(KvmStructs.VcpuEvents.SIZE);
        for (int i = 0; i < KvmStructs.VcpuEvents.SIZE; i++) b.put(i, (byte) 0x5a);
        VcpuEvents.writeException(b, VcpuEvents.ExceptionEvent.inject(3));
        assertEquals(1, b.get(KvmStructs.VcpuEvents.EXCEPTION_INJECTED));
        assertEquals(3, b.get(KvmStructs.VcpuEvents.EXCEPTION_NR));
        assertEquals(0, b.get(KvmStructs.VcpuEvents.EXCEPTION_HAS_ERROR_CODE));
        assertEquals(0, b.get(KvmStructs.VcpuEvents.EXCEPTION_PENDING));
        assertEquals(0, b.getInt(KvmStructs.VcpuEvents.EXCEPTION_ERROR_CODE));
        for (int i = KvmStructs.VcpuEvents.INTERRUPT_INJECTED; i < KvmStructs.VcpuEvents.SIZE; i++)
            assertEquals(0x5a, b.get(i), "byte " + i);
    }

    @Test
    void cpuidEntriesRoundTripThroughKvmCpuid2() {
        List<CpuidEntry> entries = List.of(new CpuidEntry(0, 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69),
                new CpuidEntry(7, 1, CpuidEntry.FLAG_SIGNIFICANT_INDEX, 1, 2, 3, 4));
        ByteBuffer b = Structs.allocate(KvmStructs.Cpuid2.SIZE + 2 * KvmStructs.CpuidEntry2.SIZE);
        b.putInt(KvmStructs.Cpuid2.NENT, 2);
        for (int i = 0; i < 2; i++) entries.get(i).write(b, KvmStructs.Cpuid2.ENTRIES + i * KvmStructs.CpuidEntry2.SIZE);
        assertEquals(7, b.getInt(KvmStructs.Cpuid2.ENTRIES + KvmStructs.CpuidEntry2.SIZE + KvmStructs.CpuidEntry2.FUNCTION));
        assertEquals(4, b.getInt(KvmStructs.Cpuid2.ENTRIES + KvmStructs.CpuidEntry2.SIZE + KvmStructs.CpuidEntry2.EDX));
        assertEquals(entries, Kvm.readCpuid2(b));
        assertEquals(new CpuidEntry(7, 1, 1, 9, 8, 7, 6), entries.get(1).withRegisters(9, 8, 7, 6));
    }

    /** KVM_GET_CPUID2 may leave nent at the buffer's capacity: the unfilled (zero) entries are not leaves. */
    @Test
    void unfilledCpuid2EntriesAreDropped() {
        CpuidEntry leaf0 = new CpuidEntry(0, 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69);
        ByteBuffer b = Structs.allocate(KvmStructs.Cpuid2.SIZE + 4 * KvmStructs.CpuidEntry2.SIZE);
        b.putInt(KvmStructs.Cpuid2.NENT, 4);
        leaf0.write(b, KvmStructs.Cpuid2.ENTRIES);
        assertEquals(List.of(leaf0), Kvm.readCpuid2(b));
    }

    @Test
    void lapicRegistersAtTheirPageOffsets() {
        LapicState s = new LapicState().register(0x350, 0x700).register(0x360, 0x400);
        ByteBuffer b = Structs.allocate(KvmStructs.LapicState.SIZE);
        s.write(b);
        assertEquals(0x700, b.getInt(0x350));
        assertEquals(0x400, LapicState.read(b).register(0x360));
    }

    @Test
    void mpStateValues() {
        assertEquals(0, MpState.RUNNABLE.value());
        assertEquals(3, MpState.HALTED.value());
        assertEquals(10, MpState.SUSPENDED.value());
        assertEquals(MpState.SIPI_RECEIVED, MpState.of(4));
        assertThrows(IllegalArgumentException.class, () -> MpState.of(11));
    }
}
