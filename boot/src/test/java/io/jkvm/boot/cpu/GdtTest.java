package io.jkvm.boot.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jkvm.memory.GuestMemory;
import org.junit.jupiter.api.Test;

class GdtTest {

    @Test
    void writesTheBootProtocolLayout() {
        try (GuestMemory m = GuestMemory.allocate(0x1000)) {
            m.fill(0x500, 0x40, (byte) 0x5a);
            Gdt.longMode().writeTo(m, 0x500);
            assertEquals(0, m.readLong(0x500));
            assertEquals(0, m.readLong(0x508));
            assertEquals(SegmentDescriptor.CODE64.encode(), m.readLong(0x500 + Gdt.CODE_SELECTOR));
            assertEquals(SegmentDescriptor.DATA32.encode(), m.readLong(0x500 + Gdt.DATA_SELECTOR));
            assertEquals(SegmentDescriptor.TSS64.encode(), m.readLong(0x500 + Gdt.TSS_SELECTOR));
            assertEquals(0, m.readLong(0x500 + Gdt.TSS_SELECTOR + 8));
            assertEquals(0x5a5a5a5a5a5a5a5aL, m.readLong(0x500 + Gdt.SIZE), "wrote past the table");
            assertEquals(Gdt.SIZE - 1, Gdt.longMode().limit());
        }
    }

    @Test
    void protectedModeGdtHasA32BitCodeSegment() {
        try (GuestMemory m = GuestMemory.allocate(0x1000)) {
            Gdt.protectedMode().writeTo(m, 0x800);
            assertEquals(SegmentDescriptor.CODE32.encode(), m.readLong(0x800 + Gdt.CODE_SELECTOR));
            assertEquals(SegmentDescriptor.CODE32, Gdt.protectedMode().code());
        }
    }

    @Test
    void checksPlacement() {
        try (GuestMemory m = GuestMemory.allocate(0x1000)) {
            assertThrows(IllegalArgumentException.class, () -> Gdt.longMode().writeTo(m, 0x504));
            assertThrows(RuntimeException.class, () -> Gdt.longMode().writeTo(m, 0xfe0));
        }
    }
}
