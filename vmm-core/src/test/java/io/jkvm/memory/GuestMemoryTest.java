package io.jkvm.memory;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    private static final List<GuestMemory.Range> TWO_REGIONS =
            List.of(new GuestMemory.Range(0x10_0000, 0x20_0000), new GuestMemory.Range(0, 0x1_0000));

    @Test
    void savedMemoryMapsBackPrivatelyWithZeroPagesAsHoles(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("memory");
        try (GuestMemory m = GuestMemory.allocate(TWO_REGIONS)) {
            m.writeLong(0x8, 0x1122334455667788L);
            m.writeInt(0x10_0000 + 0x1f_fffc, 0xcafe);   // last bytes of the second region
            m.writeByte(0x10_5000, (byte) 7);
            m.saveTo(file);
        }
        assertEquals(0x21_0000, Files.size(file), "the regions back to back, in address order");
        assertFalse(Files.exists(dir.resolve("memory.tmp")));
        long allocated = allocatedBytes(file);
        assertTrue(allocated < 0x4_0000, "three pages of data, the rest holes: " + allocated + " bytes allocated");
        try (GuestMemory m = GuestMemory.mapPrivate(file, TWO_REGIONS)) {
            assertEquals(0x1122334455667788L, m.readLong(0x8));
            assertEquals(0xcafe, m.readInt(0x10_0000 + 0x1f_fffc));
            assertEquals(7, m.readByte(0x10_5000));
            assertEquals(0, m.readLong(0x10_8000));
            m.writeLong(0x8, 1); // stays in this process
            assertThrows(GuestMemoryException.class, () -> m.readByte(0x1_0000)); // still the one bounds check
        }
        try (GuestMemory m = GuestMemory.mapPrivate(file, TWO_REGIONS)) {
            assertEquals(0x1122334455667788L, m.readLong(0x8), "the file is unchanged by a private write");
        }
    }

    @Test
    void aMemoryFileOfAnotherSizeIsRefused(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("memory");
        Files.write(file, new byte[0x1_0000]);
        IOException e = assertThrows(IOException.class, () -> GuestMemory.mapPrivate(file, TWO_REGIONS));
        assertTrue(e.getMessage().contains("needs " + 0x21_0000), e.getMessage());
    }

    /** The disk space a file takes (st_blocks of 512 bytes, from stat(1): Java has no attribute for it). */
    private static long allocatedBytes(Path file) throws IOException, InterruptedException {
        Process stat = new ProcessBuilder("stat", "-c", "%b", file.toString()).start();
        String blocks = new String(stat.getInputStream().readAllBytes()).strip();
        assertEquals(0, stat.waitFor());
        return Long.parseLong(blocks) * 512;
    }
}
