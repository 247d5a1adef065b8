package io.jkvm.kvm;

import io.jkvm.kvm.sys.KvmStructs;
import java.nio.ByteBuffer;
import java.util.EnumMap;
import java.util.Map;

/**
 * A vCPU's special registers (struct kvm_sregs): segment registers, GDTR/IDTR, control registers, EFER,
 * APIC base and the pending-interrupt bitmap. Mutable; the setters chain. Start from
 * {@link Vcpu#getSregs()} and change what you need: a zeroed set is not a valid CPU state.
 */
public final class Sregs {
    private final Map<SegmentRegister, Segment> segments = new EnumMap<>(SegmentRegister.class);
    private final long[] control = new long[ControlRegister.values().length];
    private final long[] interruptBitmap = new long[KvmStructs.Sregs.INTERRUPT_BITMAP_WORDS];
    private DTable gdt = new DTable(0, 0);
    private DTable idt = new DTable(0, 0);

    public Segment segment(SegmentRegister r) {
        return segments.get(r);
    }

    public Sregs segment(SegmentRegister r, Segment value) {
        segments.put(r, value);
        return this;
    }

    public long get(ControlRegister r) {
        return control[r.ordinal()];
    }

    public Sregs set(ControlRegister r, long value) {
        control[r.ordinal()] = value;
        return this;
    }

    public DTable gdt() {
        return gdt;
    }

    public Sregs gdt(DTable value) {
        gdt = value;
        return this;
    }

    public DTable idt() {
        return idt;
    }

    public Sregs idt(DTable value) {
        idt = value;
        return this;
    }

    /** Word {@code i} (0-3) of the bitmap of interrupts pending injection (vectors 0-255). */
    public long interruptBitmap(int i) {
        return interruptBitmap[i];
    }

    public Sregs interruptBitmap(int i, long value) {
        interruptBitmap[i] = value;
        return this;
    }

    static Sregs read(ByteBuffer b) {
        Sregs s = new Sregs();
        for (SegmentRegister r : SegmentRegister.values()) s.segments.put(r, Segment.read(b, r.offset()));
        for (ControlRegister r : ControlRegister.values()) s.control[r.ordinal()] = b.getLong(r.offset());
        for (int i = 0; i < s.interruptBitmap.length; i++)
            s.interruptBitmap[i] = b.getLong(KvmStructs.Sregs.INTERRUPT_BITMAP + i * Long.BYTES);
        s.gdt = DTable.read(b, KvmStructs.Sregs.GDT);
        s.idt = DTable.read(b, KvmStructs.Sregs.IDT);
        return s;
    }

    void write(ByteBuffer b) {
        for (SegmentRegister r : SegmentRegister.values()) {
            Segment seg = segments.get(r);
            if (seg == null) throw new IllegalStateException("segment register " + r + " not set");
            seg.write(b, r.offset());
        }
        for (ControlRegister r : ControlRegister.values()) b.putLong(r.offset(), control[r.ordinal()]);
        for (int i = 0; i < interruptBitmap.length; i++)
            b.putLong(KvmStructs.Sregs.INTERRUPT_BITMAP + i * Long.BYTES, interruptBitmap[i]);
        gdt.write(b, KvmStructs.Sregs.GDT);
        idt.write(b, KvmStructs.Sregs.IDT);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (SegmentRegister r : SegmentRegister.values())
            sb.append(String.format("%-4s %s%n", r.name().toLowerCase(), segments.get(r)));
        sb.append("gdt  ").append(gdt).append('\n').append("idt  ").append(idt).append('\n');
        for (ControlRegister r : ControlRegister.values())
            sb.append(String.format("%s=%016x ", r.name().toLowerCase(), control[r.ordinal()]));
        return sb.toString().strip();
    }
}
