package io.jkvm.boot.cpu;

import io.jkvm.memory.GuestMemory;

/**
 * The boot GDT, laid out as the Linux boot protocol wants it (Documentation/arch/x86/boot.rst, "32-bit
 * BOOT PROTOCOL" and "64-bit BOOT PROTOCOL": __BOOT_CS = 0x10 execute/read, __BOOT_DS = 0x18 read/write,
 * both flat 4 GiB), followed by a busy TSS for TR:
 * <pre>
 *   0x00 null   0x08 null   0x10 code   0x18 data   0x20 TSS (16 bytes: a system descriptor in long mode)
 * </pre>
 */
public final class Gdt {
    public static final int CODE_SELECTOR = 0x10;
    public static final int DATA_SELECTOR = 0x18;
    public static final int TSS_SELECTOR = 0x20;
    /** Bytes the table occupies in guest memory. */
    public static final int SIZE = 0x30;

    private final SegmentDescriptor code;

    private Gdt(SegmentDescriptor code) {
        this.code = code;
    }

    /** A GDT whose code segment is 64-bit ({@link SegmentDescriptor#CODE64}). */
    public static Gdt longMode() {
        return new Gdt(SegmentDescriptor.CODE64);
    }

    /** A GDT whose code segment is flat 32-bit ({@link SegmentDescriptor#CODE32}). */
    public static Gdt protectedMode() {
        return new Gdt(SegmentDescriptor.CODE32);
    }

    public SegmentDescriptor code() {
        return code;
    }

    public SegmentDescriptor data() {
        return SegmentDescriptor.DATA32;
    }

    public SegmentDescriptor tss() {
        return SegmentDescriptor.TSS64;
    }

    /** The GDTR limit: size in bytes minus one (SDM Vol. 3A §2.4.1). */
    public int limit() {
        return SIZE - 1;
    }

    /** Writes the table at guest-physical {@code address} (8-byte aligned, SDM §3.5.1 recommends it). */
    public void writeTo(GuestMemory memory, long address) {
        if ((address & 0b111) != 0) throw new IllegalArgumentException(String.format("GDT at %#x not 8-byte aligned", address));
        memory.fill(address, SIZE, (byte) 0);
        memory.writeLong(address + CODE_SELECTOR, code.encode());
        memory.writeLong(address + DATA_SELECTOR, data().encode());
        // High half of the 16-byte TSS descriptor: base[63:32] (zero here) and reserved zeros.
        memory.writeLong(address + TSS_SELECTOR, tss().encode());
        memory.writeLong(address + TSS_SELECTOR + 8, tss().base() >>> 32);
    }
}
