package io.jkvm.devices.virtio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jkvm.devices.virtio.block.VirtioBlock;
import io.jkvm.memory.GuestMemory;
import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the restore of a virtio-mmio transport with virtio-blk behind it: the input is the saved state, as a
 * snapshot file would hold it (one section, {@code "device"}). Restoring may refuse it only with
 * {@link SnapshotFormatException}; a state it takes must leave a device that works: a queue service (on this
 * thread, as in {@link VirtioBlockMmioFuzzTest}) and every register read run without an exception, and a
 * driver reset brings Status back to 0. In a normal build this runs the committed inputs under
 * {@code src/test/resources/io/jkvm/devices/virtio/SnapshotRestoreFuzzTestInputs/} (valid states of a disk
 * mid-use, to start the fuzzer from); {@code scripts/fuzz.sh SECONDS restoreBlock} fuzzes.
 */
class SnapshotRestoreFuzzTest {
    static final long RAM = 0x10000;
    static final int SECTORS = 16;

    private static final Logger QUIET = Logger.getLogger("io.jkvm");
    private static Path dir;
    private static Path image;
    private static GuestMemory memory;

    @BeforeAll
    static void setUp() throws IOException {
        QUIET.setLevel(Level.OFF);
        dir = Files.createTempDirectory("jkvm-fuzz-restore");
        image = dir.resolve("disk.img");
        Files.write(image, new byte[SECTORS * VirtioBlock.SECTOR_SIZE]);
        memory = GuestMemory.allocate(RAM);
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (memory != null) memory.close();
        if (image != null) Files.deleteIfExists(image);
        if (dir != null) Files.deleteIfExists(dir);
        QUIET.setLevel(null);
    }

    @FuzzTest(maxDuration = "10m")
    void restoreBlock(byte[] state) throws IOException {
        memory.fill(0, RAM, (byte) 0);
        try (MmioTransport transport = new MmioTransport(VirtioBlock.open(image, true, "fuzz"), memory, level -> { })) {
            try {
                new StateReader(state).section("device", transport);
            } catch (SnapshotFormatException refused) {
                return;
            }
            transport.serviceQueue(0);
            for (long offset = 0; offset < 0x100; offset += 4) transport.read(offset, 4);
            transport.write(0x070, 4, 0); // Status = 0: reset
            assertEquals(0, transport.read(0x070, 4), "Status after a reset");
        }
    }
}
