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
        IoVector v = new IoVector(4);
        try (GuestMemory m = GuestMemory.allocate(0x10000); RawFile f = RawFile.open(img, false)) {
            v.add(m, 0x1000, 4096);
            f.readInto(v, 4096);
            assertArrayEquals(Arrays.copyOfRange(pattern(8192), 4096, 8192), m.read(0x1000, 4096));

            // Scattered buffers, one call: 100 bytes at 0x8000, 0 bytes, 412 bytes at 0x2000.
            v.clear();
            v.add(m, 0x8000, 100);
            v.add(m, 0x9000, 0);
            v.add(m, 0x2000, 412);
            f.readInto(v, 1000);
            assertArrayEquals(Arrays.copyOfRange(pattern(8192), 1000, 1100), m.read(0x8000, 100));
            assertArrayEquals(Arrays.copyOfRange(pattern(8192), 1100, 1512), m.read(0x2000, 412));
            assertEquals(0, v.remainingBytes());

            m.fill(0x3000, 512, (byte) 0x5a);
            m.fill(0x5000, 512, (byte) 0x3c);
            v.clear();
            v.add(m, 0x3000, 512);
            v.add(m, 0x5000, 512);
            f.writeFrom(v, 0);

            m.fill(0x4000, 1024, (byte) 0x77);
            v.clear();
            v.add(m, 0x4000, 1024);
            f.readInto(v, 7680); // half past the end of the file: zeros
            assertArrayEquals(Arrays.copyOfRange(pattern(8192), 7680, 8192), m.read(0x4000, 512));
            assertArrayEquals(new byte[512], m.read(0x4200, 512));
        }
        byte[] after = Files.readAllBytes(img);
        for (int i = 0; i < 512; i++) assertEquals(0x5a, after[i]);
        for (int i = 512; i < 1024; i++) assertEquals(0x3c, after[i]);
        assertEquals(8192, after.length);
    }

    @Test
    void readOnlyRefusesWritesAndLockRefusesASecondWriter() throws Exception {
        Path img = Files.write(dir.resolve("ro.img"), pattern(4096));
        try (GuestMemory m = GuestMemory.allocate(0x10000); RawFile ro = RawFile.open(img, true)) {
            IoVector v = new IoVector(1);
            v.add(m, 0, 512);
            assertThrows(IOException.class, () -> ro.writeFrom(v, 0));
            assertThrows(IOException.class, () -> RawFile.open(img, false), "a shared lock keeps writers out");
        }
        try (RawFile rw = RawFile.open(img, false)) {
            IOException e = assertThrows(IOException.class, () -> RawFile.open(img, false));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
        assertArrayEquals(pattern(4096), Files.readAllBytes(img));
    }

    /** The size is the open file's (fstat on the descriptor), not whatever the path names by now. */
    @Test
    void sizeIsThatOfTheOpenFileNotOfThePath() throws Exception {
        Path img = Files.write(dir.resolve("disk.img"), pattern(8192));
        Path other = Files.write(dir.resolve("other.img"), pattern(4096 * 3));
        try (RawFile f = RawFile.open(img, true)) {
            Files.move(other, img, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            assertEquals(8192, f.size());
            Files.delete(img);
            assertEquals(8192, f.size());
        }
    }

    /** A failing fallocate is reported with its own errno, whichever operation made it. */
    @Test
    void fallocateFailuresNameTheirErrno() throws Exception {
        Path img = Files.write(dir.resolve("disk.img"), pattern(8192));
        FaultyFileSyscalls faults = new FaultyFileSyscalls();
        try (RawFile f = RawFile.open(img, false, faults)) {
            faults.fallocateErrno = 5; // EIO
            assertTrue(assertThrows(IOException.class, () -> f.punchHole(0, 4096)).getMessage().contains("Input/output error"));
            faults.fallocateErrno = 28; // ENOSPC
            assertTrue(assertThrows(IOException.class, () -> f.zeroRange(0, 4096)).getMessage().contains("No space left"));
        }
        assertArrayEquals(pattern(8192), Files.readAllBytes(img));
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
