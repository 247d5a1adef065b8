package io.jkvm.io;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jkvm.memory.GuestMemory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RawFileTest {
    @TempDir Path dir;

    private static byte[] pattern(int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (i * 31 + 7);
        return b;
    }

    @Test
    void movesBytesBetweenFileAndGuestMemory() throws Exception {
        Path img = Files.write(dir.resolve("disk.img"), pattern(8192));
        try (GuestMemory m = GuestMemory.allocate(0x10000); RawFile f = RawFile.open(img, false)) {
            f.readInto(m, 0x1000, 4096, 4096);
            assertArrayEquals(Arrays.copyOfRange(pattern(8192), 4096, 8192), m.read(0x1000, 4096));
            m.fill(0x3000, 512, (byte) 0x5a);
            f.writeFrom(m, 0x3000, 512, 0);
            f.readInto(m, 0x4000, 1024, 7680); // half past the end of the file: zeros
            assertEquals(0, m.readByte(0x4000 + 600));
        }
        byte[] after = Files.readAllBytes(img);
        for (int i = 0; i < 512; i++) assertEquals(0x5a, after[i]);
        assertEquals(8192, after.length);
    }

    @Test
    void readOnlyRefusesWritesAndLockRefusesASecondWriter() throws Exception {
        Path img = Files.write(dir.resolve("ro.img"), pattern(4096));
        try (GuestMemory m = GuestMemory.allocate(0x10000); RawFile ro = RawFile.open(img, true)) {
            assertThrows(IOException.class, () -> ro.writeFrom(m, 0, 512, 0));
            assertThrows(IOException.class, () -> RawFile.open(img, false), "a shared lock keeps writers out");
        }
        try (RawFile rw = RawFile.open(img, false)) {
            IOException e = assertThrows(IOException.class, () -> RawFile.open(img, false));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
        assertArrayEquals(pattern(4096), Files.readAllBytes(img));
    }

    /** tmpfs has no FALLOC_FL_ZERO_RANGE: zeroRange must still zero (by writing). */
    @Test
    void zeroRangeWorksOnTmpfs() throws Exception {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "no /dev/shm tmpfs here");
        Path img = Files.createTempFile(shm, "jkvm-rawfile", ".img");
        try {
            Files.write(img, pattern(200_000));
            try (RawFile f = RawFile.open(img, false)) {
                f.zeroRange(1000, 150_000);
            }
            byte[] after = Files.readAllBytes(img);
            byte[] expected = pattern(200_000);
            Arrays.fill(expected, 1000, 151_000, (byte) 0);
            assertArrayEquals(expected, after);
        } finally {
            Files.deleteIfExists(img);
        }
    }
}
