package io.jkvm.devices.virtio.block;

import static io.jkvm.devices.virtio.VirtioMmioDriver.*;
import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.readable;
import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.writable;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.devices.virtio.DeviceStatus;
import io.jkvm.devices.virtio.InterruptRecorder;
import io.jkvm.devices.virtio.MmioTransport;
import io.jkvm.devices.virtio.VirtioFeature;
import io.jkvm.devices.virtio.VirtioMmioDriver;
import io.jkvm.devices.virtio.VirtqueueDriver;
import io.jkvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A driver's whole path without KVM: probe and negotiate through the MMIO registers, set up the queue,
 * submit requests, notify through the eventfd (as a KVM ioeventfd would) or a QueueNotify write, and wait
 * for the interrupt raised by the I/O thread.
 */
class VirtioBlockEndToEndTest {
    private static final long HEADER = 0x10000, DATA = 0x20000, STATUS_BYTE = 0x30000, INDIRECT = 0x40000;

    @TempDir
    Path dir;

    private static void header(GuestMemory memory, int type, long sector) {
        memory.write(HEADER, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(type).putInt(0).putLong(sector).array());
    }

    @Test
    void writeThenReadBackThroughTheTransport() throws Exception {
        Path image = dir.resolve("disk.img");
        Files.write(image, new byte[32 * 512]);
        try (GuestMemory memory = GuestMemory.allocate(1 << 20)) {
            InterruptRecorder irq = new InterruptRecorder();
            MmioTransport transport = new MmioTransport(VirtioBlock.open(image, false, "e2e"), memory, irq);
            try {
                transport.start();
                VirtioMmioDriver mmio = new VirtioMmioDriver(transport);
                assertEquals(0x74726976L, mmio.read(MAGIC_VALUE));
                assertEquals(VirtioBlock.DEVICE_ID, mmio.read(DEVICE_ID));
                assertEquals(32, transport.read(CONFIG, 8), "capacity through the config window");
                long features = mmio.deviceFeatures() & (VirtioFeature.TRANSPORT_FEATURES | VirtioBlock.VIRTIO_BLK_F_FLUSH);
                assertEquals(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK, mmio.negotiate(features));
                mmio.write(QUEUE_SEL, 0);
                assertEquals(VirtioBlock.QUEUE_SIZE, mmio.read(QUEUE_NUM_MAX));
                VirtqueueDriver queue = VirtqueueDriver.atDefaultLayout(memory, 128);
                queue.setUsedEvent(0); // EVENT_IDX: interrupt on the first completion
                mmio.setUpQueue(0, queue);
                mmio.driverOk();

                byte[] data = new byte[1024];
                for (int i = 0; i < data.length; i++) data[i] = (byte) (i ^ 0x5a);
                memory.write(DATA, data);
                header(memory, VirtioBlock.VIRTIO_BLK_T_OUT, 3);
                queue.addChain(readable(HEADER, 16), readable(DATA, 1024), writable(STATUS_BYTE, 1));
                transport.notifyEventFd(0).signal(); // the ioeventfd path
                assertTrue(irq.awaitEdge(), "interrupt after the write");
                assertEquals(1, queue.usedIdx());
                assertEquals(0, memory.readByte(STATUS_BYTE));
                assertEquals(0b01, mmio.read(INTERRUPT_STATUS));
                mmio.write(INTERRUPT_ACK, 0b01);
                assertArrayEquals(data, Arrays.copyOfRange(Files.readAllBytes(image), 3 * 512, 5 * 512));

                memory.fill(DATA, 1024, (byte) 0);
                memory.writeByte(STATUS_BYTE, (byte) 0x7f);
                header(memory, VirtioBlock.VIRTIO_BLK_T_IN, 3);
                queue.setUsedEvent(1);
                queue.addIndirectChain(INDIRECT, readable(HEADER, 16), writable(DATA, 1024), writable(STATUS_BYTE, 1));
                mmio.write(QUEUE_NOTIFY, 0); // the trapped-write path
                assertTrue(irq.awaitEdge(), "interrupt after the read");
                assertEquals(2, queue.usedIdx());
                assertEquals(1025, queue.usedLength(1));
                assertEquals(0, memory.readByte(STATUS_BYTE));
                assertArrayEquals(data, memory.read(DATA, 1024));

                // a hostile avail index: the device needs a reset, the I/O thread survives it
                queue.setAvailIdx(queue.usedIdx() + 1000);
                mmio.write(QUEUE_NOTIFY, 0);
                assertTrue(irq.awaitEdge(), "configuration change interrupt");
                assertTrue((mmio.read(STATUS) & DeviceStatus.DEVICE_NEEDS_RESET) != 0);

                mmio.negotiate(features);
                VirtqueueDriver again = VirtqueueDriver.atDefaultLayout(memory, 128);
                mmio.setUpQueue(0, again);
                mmio.driverOk();
                header(memory, VirtioBlock.VIRTIO_BLK_T_FLUSH, 0);
                again.addChain(readable(HEADER, 16), writable(STATUS_BYTE, 1));
                transport.notifyEventFd(0).signal();
                assertTrue(irq.awaitEdge(), "served after the reset");
                assertEquals(1, again.usedIdx());
            } finally {
                transport.close();
            }
        }
    }
}
