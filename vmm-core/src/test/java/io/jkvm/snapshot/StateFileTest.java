package io.jkvm.snapshot;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state file's header and checksum: what is written reads back, and every damage to it is refused. */
class StateFileTest {
    @TempDir Path dir;

    private static byte[] body(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    @Test
    void roundTrip() throws IOException {
        Path file = dir.resolve("vm.state");
        byte[] body = new StateWriter().u32(7).string("hello").toByteArray();
        StateFile.write(file, "0.1.0", body);
        StateFile.Contents read = StateFile.read(file);
        assertArrayEquals(body, read.body());
        assertEquals("0.1.0", read.writtenBy());
        assertEquals(7, new StateReader(read.body()).u32());
    }

    @Test
    void emptyBodyRoundTrips() throws IOException {
        Path file = dir.resolve("empty.state");
        StateFile.write(file, "", new byte[0]);
        assertArrayEquals(new byte[0], StateFile.read(file).body());
    }

    @Test
    void writeReplacesAtomicallyAndLeavesNoTemporaryFile() throws IOException {
        Path file = dir.resolve("vm.state");
        StateFile.write(file, "a", body(100));
        StateFile.write(file, "b", body(50));
        assertArrayEquals(body(50), StateFile.read(file).body());
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "only the state file is left");
        }
    }

    @Test
    void everySingleByteCorruptionIsDetected() throws IOException {
        Path file = dir.resolve("vm.state");
        StateFile.write(file, "0.1.0-SNAPSHOT", body(40));
        byte[] good = Files.readAllBytes(file);
        for (int i = 0; i < good.length; i++) {
            for (int flip : new int[] {0x01, 0x80, 0xff}) {
                byte[] bad = good.clone();
                bad[i] ^= (byte) flip;
                Files.write(file, bad);
                int at = i;
                SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> StateFile.read(file),
                        "byte " + at + " ^ " + flip + " was not detected");
                assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            }
        }
    }

    @Test
    void everyTruncationAndAnAppendedByteAreDetected() throws IOException {
        Path file = dir.resolve("vm.state");
        StateFile.write(file, "0.1.0", body(40));
        byte[] good = Files.readAllBytes(file);
        for (int n = 0; n < good.length; n++) {
            Files.write(file, Arrays.copyOf(good, n));
            int len = n;
            assertThrows(SnapshotFormatException.class, () -> StateFile.read(file), "truncated to " + len);
        }
        Files.write(file, Arrays.copyOf(good, good.length + 1));
        assertThrows(SnapshotFormatException.class, () -> StateFile.read(file));
    }

    @Test
    void anotherFormatVersionIsRefusedByName() throws IOException {
        Path file = dir.resolve("vm.state");
        StateFile.write(file, "9.9", body(8));
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 2);
        Files.write(file, bytes);
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> StateFile.read(file));
        assertTrue(e.getMessage().contains("snapshot format version 2; this jkvm reads 1"), e.getMessage());
    }

    @Test
    void aHostileBodyLengthAllocatesNothing() throws IOException {
        Path file = dir.resolve("vm.state");
        StateFile.write(file, "", body(8));
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(14, Long.MAX_VALUE);
        Files.write(file, bytes);
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> StateFile.read(file));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void aForeignFileIsNotAStateFile() throws IOException {
        Path file = Files.write(dir.resolve("kernel"), body(4096));
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> StateFile.read(file));
        assertTrue(e.getMessage().contains("not a jkvm snapshot state file"), e.getMessage());
    }

    @Test
    void aMissingFileIsOneIoErrorNamingIt() {
        Path file = dir.resolve("missing.state");
        IOException e = assertThrows(IOException.class, () -> StateFile.read(file));
        assertEquals("cannot read the snapshot state " + file + ": no such file or directory", e.getMessage());
    }

    @Test
    void aMissingDirectoryIsOneIoErrorNamingTheFile() {
        Path file = dir.resolve("no/such/dir/vm.state");
        IOException e = assertThrows(IOException.class, () -> StateFile.write(file, "x", new byte[1]));
        assertEquals("cannot write the snapshot state " + file + ": no such file or directory", e.getMessage());
    }

    @Test
    void aDirectoryIsOneIoErrorNamingIt() {
        IOException e = assertThrows(IOException.class, () -> StateFile.read(dir));
        assertTrue(e.getMessage().startsWith("cannot read the snapshot state " + dir + ": "), e.getMessage());
    }
}
