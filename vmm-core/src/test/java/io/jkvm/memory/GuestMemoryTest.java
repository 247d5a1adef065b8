package io.jkvm.memory;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class GuestMemoryTest {
    @Test
    void readsBackWhatItWritesInEachRegion() {
        try (GuestMemory m = GuestMemory.allocate(List.of(
                new GuestMemory.Range(0, 0x10000), new GuestMemory.Range(0x1_0000_0000L, 0x2000)))) {
            m.writeLong(0x100, 0x1122334455667788L);
            assertEquals(0x55667788, m.readInt(0x100));
            assertEquals((byte) 0x88, m.readByte(0x100));
            m.writeInt(0x1_0000_1ffcL, 0xcafef00d);
            assertEquals(0xcafef00d, m.readInt(0x1_0000_1ffcL));
            byte[] b = {1, 2, 3};
            m.write(0xfffd, b);
            assertArrayEquals(b, m.read(0xfffd, 3));
            assertEquals(0x12000, m.size());
        }
    }

    @Test
    void rejectsEveryAccessOutsideRam() {
        try (GuestMemory m = GuestMemory.allocate(List.of(
                new GuestMemory.Range(0, 0x10000), new GuestMemory.Range(0x20000, 0x10000)))) {
            assertThrows(GuestMemoryException.class, () -> m.readInt(0xfffe)); // straddles the end
            assertThrows(GuestMemoryException.class, () -> m.readByte(0x10000)); // in the hole
            assertThrows(GuestMemoryException.class, () -> m.hostAddress(0xffff, 0x10002)); // spans hole
            assertThrows(GuestMemoryException.class, () -> m.readLong(-4)); // wraps
            assertThrows(GuestMemoryException.class, () -> m.hostAddress(0x20000, -1));
            assertThrows(GuestMemoryException.class, () -> m.hostAddress(Long.MAX_VALUE, 2));
            assertThrows(GuestMemoryException.class, () -> m.hostAddress(0x20010, Long.MAX_VALUE));
            assertFalse(m.contains(0x2fff0, 0x11));
            assertTrue(m.contains(0x2fff0, 0x10));
        }
    }

    @Test
    void rejectsUnalignedOrOverlappingRanges() {
        assertThrows(IllegalArgumentException.class, () -> GuestMemory.allocate(List.of(new GuestMemory.Range(0x800, 0x1000))));
        assertThrows(IllegalArgumentException.class, () -> GuestMemory.allocate(List.of(
                new GuestMemory.Range(0, 0x2000), new GuestMemory.Range(0x1000, 0x1000))));
    }
}
