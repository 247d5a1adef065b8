package io.jkvm.devices.virtio.block;

import static io.jkvm.devices.virtio.VirtioMmioDriver.*;
import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.readable;
import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.writable;
import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.devices.SavedState;
import io.jkvm.devices.virtio.InterruptRecorder;
import io.jkvm.devices.virtio.MmioTransport;
import io.jkvm.devices.virtio.VirtioFeature;
import io.jkvm.devices.virtio.VirtioMmioDriver;
import io.jkvm.devices.virtio.VirtqueueDriver;
import io.jkvm.memory.GuestMemory;
import io.jkvm.snapshot.SnapshotFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-blk through a snapshot: a write is served, the machine pauses (no request in flight after that) and
 * saves; a transport and disk built again from the same configuration restore it, and a read of what was
 * written is served from the saved queue position.
 */
class VirtioBlockStateTest {
    private static final long HEADER = 0x10000, DATA = 0x20000, STATUS_BYTE = 0x30000;
    private static final long FEATURES = VirtioFeature.VERSION_1 | VirtioFeature.RING_EVENT_IDX | VirtioBlock.VIRTIO_BLK_F_FLUSH;

    @TempDir Path dir;
    private Path image;
    private final GuestMemory memory = GuestMemory.allocate(1 << 20);
    private final VirtqueueDriver queue = VirtqueueDriver.atDefaultLayout(memory, 64);

    @BeforeEach
    void createImage() throws IOException {
        image = dir.resolve("disk.img");
        Files.write(image, new byte[32 * 512]);
    }

    @AfterEach
    void close() {
        memory.close();
    }

    private void request(int type, long sector, VirtqueueDriver.Buffer data) {
        memory.write(HEADER, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(type).putInt(0).putLong(sector).array());
        memory.writeByte(STATUS_BYTE, (byte) 0x7f);
        queue.setUsedEvent(queue.usedIdx());
        queue.addChain(readable(HEADER, 16), data, writable(STATUS_BYTE, 1));
    }

    /** A driver set up the disk and wrote sector 5; the machine paused and saved. The transport is closed. */
    private byte[] savedAfterAWrite(byte[] written) throws Exception {
        InterruptRecorder irq = new InterruptRecorder();
        try (MmioTransport transport = new MmioTransport(VirtioBlock.open(image, false, "disk"), memory, irq)) {
            transport.start();
            VirtioMmioDriver driver = new VirtioMmioDriver(transport);
            driver.negotiate(FEATURES);
            driver.setUpQueue(0, queue);
            driver.driverOk();
            memory.write(DATA, written);
            request(VirtioBlock.VIRTIO_BLK_T_OUT, 5, readable(DATA, 512));
            transport.notifyEventFd(0).signal();
            assertTrue(irq.awaitEdge(), "write served");
            assertEquals(0, memory.readByte(STATUS_BYTE));
            transport.pause();
            return SavedState.save(transport);
        }
    }

    @Test
    void restoredDiskServesTheNextRequest() throws Exception {
        byte[] written = new byte[512];
        for (int i = 0; i < written.length; i++) written[i] = (byte) (i * 7);
        byte[] state = savedAfterAWrite(written);
        InterruptRecorder irq = new InterruptRecorder();
        try (MmioTransport restored = new MmioTransport(VirtioBlock.open(image, false, "disk"), memory, irq)) {
            SavedState.restore(state, restored);
            restored.start();
            memory.fill(DATA, 512, (byte) 0);
            request(VirtioBlock.VIRTIO_BLK_T_IN, 5, writable(DATA, 512));
            restored.notifyEventFd(0).signal();
            assertTrue(irq.awaitEdge(), "the write's interrupt, pending at the save, signalled again");
            assertTrue(irq.awaitEdge(), "read served after the restore");
            assertEquals(2, queue.usedIdx(), "the used index went on from the saved one");
            assertEquals(513, queue.usedLength(1));
            assertEquals(0, memory.readByte(STATUS_BYTE));
            assertArrayEquals(written, memory.read(DATA, 512));
            assertEquals(1, new VirtioMmioDriver(restored).read(INTERRUPT_STATUS));
        }
    }

    @Test
    void aDiskOfAnotherSizeIsRefused() throws Exception {
        byte[] state = savedAfterAWrite(new byte[512]);
        Files.write(image, new byte[64 * 512]);
        try (MmioTransport restored = new MmioTransport(VirtioBlock.open(image, false, "disk"), memory, new InterruptRecorder())) {
            SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> SavedState.restore(state, restored));
            assertTrue(e.getMessage().contains("disk has 32 sectors, " + image + " has 64"), e.getMessage());
        }
    }

    @Test
    void aReadOnlyDiskForAWritableOneIsRefused() throws Exception {
        byte[] state = savedAfterAWrite(new byte[512]);
        try (MmioTransport restored = new MmioTransport(VirtioBlock.open(image, true, "disk"), memory, new InterruptRecorder())) {
            SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> SavedState.restore(state, restored));
            assertTrue(e.getMessage().contains("features"), e.getMessage());
        }
    }

    @Test
    void corruptStateIsRefusedCleanly() throws Exception {
        byte[] state = savedAfterAWrite(new byte[512]);
        SavedState.assertCorruptionRefused(state, () -> {
            try {
                return new MmioTransport(VirtioBlock.open(image, false, "disk"), memory, new InterruptRecorder());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }
}
