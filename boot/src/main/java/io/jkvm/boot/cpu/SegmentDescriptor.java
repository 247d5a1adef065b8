package io.jkvm.boot.cpu;

import io.jkvm.kvm.Segment;

/**
 * A code, data or system segment descriptor: the fields of a GDT entry (Intel SDM Vol. 3A §3.4.5,
 * Figure 3-8), which are also the "hidden part" KVM keeps per segment register ({@code struct kvm_segment}).
 *
 * @param base    segment base (only the low 32 bits are encoded in an 8-byte descriptor)
 * @param limit   the raw 20-bit limit field, in bytes or, with {@code granularity}, in 4 KiB units
 * @param type    the 4-bit type field (SDM §3.4.5.1 for code/data, Table 3-2 for system descriptors)
 * @param system  false for a system descriptor (TSS, LDT, gates); the S bit is set for code and data
 * @param dpl     descriptor privilege level 0..3
 * @param present the P bit
 * @param longMode the L bit: a 64-bit code segment
 * @param defaultBig the D/B bit: 32-bit default operand size (code) / 4 GiB upper bound (stack)
 * @param granularity the G bit: limit counts 4 KiB units
 */
public record SegmentDescriptor(long base, int limit, int type, boolean system, int dpl, boolean present,
                                boolean longMode, boolean defaultBig, boolean granularity) {

    /** Code segment type: execute/read, accessed (SDM Table 3-1, type 0b1011). */
    public static final int TYPE_CODE_EXEC_READ_ACCESSED = 0b1011;
    /** Data segment type: read/write, accessed (SDM Table 3-1, type 0b0011). */
    public static final int TYPE_DATA_READ_WRITE_ACCESSED = 0b0011;
    /** System type: 32/64-bit busy TSS (SDM Table 3-2, type 0b1011); VM entry requires a busy TSS in TR. */
    public static final int TYPE_TSS_BUSY = 0b1011;
    /** Largest raw limit: with granularity set, 4 GiB. */
    public static final int LIMIT_4G = 0xfffff;
    /** Minimum limit of a 64-bit TSS: 104 bytes (SDM Vol. 3A §8.7, Figure 8-11). */
    public static final int TSS64_LIMIT = 0x67;

    /** A 64-bit code segment (L=1, D=0), as the 64-bit boot protocol's __BOOT_CS. */
    public static final SegmentDescriptor CODE64 =
            new SegmentDescriptor(0, LIMIT_4G, TYPE_CODE_EXEC_READ_ACCESSED, false, 0, true, true, false, true);
    /** A flat 4 GiB 32-bit code segment (D=1), as the 32-bit boot protocol's __BOOT_CS. */
    public static final SegmentDescriptor CODE32 =
            new SegmentDescriptor(0, LIMIT_4G, TYPE_CODE_EXEC_READ_ACCESSED, false, 0, true, false, true, true);
    /** A flat 4 GiB read/write data segment, as __BOOT_DS. */
    public static final SegmentDescriptor DATA32 =
            new SegmentDescriptor(0, LIMIT_4G, TYPE_DATA_READ_WRITE_ACCESSED, false, 0, true, false, true, true);
    /** A busy 64-bit TSS at guest-physical 0; nothing runs on it, it only satisfies the TR checks. */
    public static final SegmentDescriptor TSS64 =
            new SegmentDescriptor(0, TSS64_LIMIT, TYPE_TSS_BUSY, true, 0, true, false, false, false);

    public SegmentDescriptor {
        if ((limit & ~LIMIT_4G) != 0) throw new IllegalArgumentException("limit is a 20-bit field: " + limit);
        if ((type & ~0b1111) != 0) throw new IllegalArgumentException("type is a 4-bit field: " + type);
        if ((dpl & ~0b11) != 0) throw new IllegalArgumentException("dpl is a 2-bit field: " + dpl);
        if (longMode && defaultBig) throw new IllegalArgumentException("L and D/B both set is reserved");
    }

    /** A 16-bit real-mode segment: base = selector * 16, 64 KiB limit, as the CPU loads it in real mode. */
    public static SegmentDescriptor realMode(int selector, boolean code) {
        return new SegmentDescriptor((long) (selector & 0xffff) << 4, 0xffff,
                code ? TYPE_CODE_EXEC_READ_ACCESSED : TYPE_DATA_READ_WRITE_ACCESSED, false, 0, true, false, false,
                false);
    }

    /** The limit in bytes, as {@code kvm_segment.limit} expects it. */
    public long byteLimit() {
        return granularity ? ((long) limit << 12) | 0xfff : limit;
    }

    /** The hidden segment-register state KVM takes for this descriptor loaded with {@code selector}. */
    public Segment toSegment(int selector) {
        return new Segment(base, (int) byteLimit(), selector, type, present, dpl, defaultBig, !system, longMode,
                granularity, false, false);
    }

    /** The 8-byte descriptor (the low half of a 16-byte system descriptor in long mode). SDM Figure 3-8. */
    public long encode() {
        long b = base & 0xffff_ffffL;
        return (limit & 0xffffL)
                | (b & 0xff_ffffL) << 16
                | (long) type << 40
                | (system ? 0L : 1L) << 44
                | (long) dpl << 45
                | (present ? 1L : 0L) << 47
                | (long) (limit >>> 16) << 48
                | (longMode ? 1L : 0L) << 53
                | (defaultBig ? 1L : 0L) << 54
                | (granularity ? 1L : 0L) << 55
                | (b >>> 24) << 56;
    }
}
