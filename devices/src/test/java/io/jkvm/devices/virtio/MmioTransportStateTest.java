package io.jkvm.devices.virtio;

import static io.jkvm.devices.virtio.VirtioMmioDriver.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.devices.SavedState;
import io.jkvm.devices.virtio.VirtqueueDriver.Buffer;
import io.jkvm.memory.GuestMemory;
import io.jkvm.snapshot.SnapshotFormatException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The transport's saved state with {@link TestDevice} behind it: a driver set up two queues with EVENT_IDX, one
 * request was served and its interrupt not yet acknowledged when the machine paused and saved. A transport
 * restored from that over the same guest RAM goes on from there.
 */
class MmioTransportStateTest {
    private static final long DATA = 0x10000;
    private static final long FEATURES = VirtioFeature.VERSION_1 | VirtioFeature.RING_EVENT_IDX | TestDevice.DEVICE_FEATURE;

    private final GuestMemory memory = GuestMemory.allocate(1 << 20);
    private final List<MmioTransport> transports = new ArrayList<>();
    private final MmioTransport transport = transport(new InterruptRecorder());
    private final VirtioMmioDriver driver = new VirtioMmioDriver(transport);
    private final VirtqueueDriver queue0 = new VirtqueueDriver(memory, 8, 0x0, 0x1000, 0x2000);
    private final VirtqueueDriver queue1 = new VirtqueueDriver(memory, 16, 0x3000, 0x4000, 0x5000);

    private MmioTransport transport(InterruptRecorder irq) {
        MmioTransport t = new MmioTransport(new TestDevice(2), memory, irq);
        transports.add(t);
        return t;
    }

    @AfterEach
    void close() {
        transports.forEach(MmioTransport::close);
        memory.close();
    }

    private byte[] savedAfterOneRequest() {
        assertEquals(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK, driver.negotiate(FEATURES));
        driver.setUpQueue(0, queue0);
        driver.setUpQueue(1, queue1);
        driver.driverOk();
        driver.write(QUEUE_SEL, 1);
        queue0.setUsedEvent(0);
        queue0.addChain(Buffer.writable(DATA, 100));
        transport.serviceQueue(0);
        assertEquals(1, queue0.usedIdx());
        assertEquals(1, driver.read(INTERRUPT_STATUS), "used-buffer interrupt pending, not acknowledged");
        transport.pause();
        return SavedState.save(transport);
    }

    @Test
    void restoredTransportReadsTheSameAndServesTheNextRequest() throws Exception {
        byte[] state = savedAfterOneRequest();
        InterruptRecorder irq = new InterruptRecorder();
        MmioTransport restored = SavedState.restore(state, transport(irq));
        VirtioMmioDriver again = new VirtioMmioDriver(restored);
        assertEquals(1, irq.count(), "the pending interrupt is signalled again");
        for (int register : new int[] {STATUS, INTERRUPT_STATUS, CONFIG_GENERATION, QUEUE_SEL})
            assertEquals(driver.read(register), again.read(register), "register " + register);
        for (int q = 0; q < 2; q++) {
            again.write(QUEUE_SEL, q);
            assertEquals(1, again.read(QUEUE_READY), "queue " + q + " ready");
        }
        assertEquals(FEATURES, ((TestDevice) restored.device()).activatedWith, "activated with the negotiation");
        again.write(INTERRUPT_ACK, 1);

        restored.start();
        queue0.setUsedEvent(1);
        int head = queue0.addChain(Buffer.writable(DATA, 50), Buffer.writable(DATA + 0x100, 7));
        restored.notifyEventFd(0).signal();
        assertTrue(irq.awaitEdge() && irq.awaitEdge(), "the restore's edge and the new request's");
        assertEquals(2, queue0.usedIdx(), "the used index went on from the saved one");
        assertEquals(head, queue0.usedId(1));
        assertEquals(57, queue0.usedLength(1));
        assertEquals(2, queue0.availEvent(), "EVENT_IDX restored: avail_event published");
    }

    @Test
    void aReadyQueueBeyondTheDevicesMaximumIsRefused() {
        byte[] state = savedAfterOneRequest();
        int size = body(state, "queue1");
        state[size] = 32; // TestDevice offers 16
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> SavedState.restore(state, transport(new InterruptRecorder())));
        assertTrue(e.getMessage().contains("maximum size 16"), e.getMessage());
    }

    @Test
    void aReadyQueueOutsideGuestRamIsRefused() {
        byte[] state = savedAfterOneRequest();
        int usedRing = body(state, "queue0") + 4 + 8 + 8;
        state[usedRing + 3] = 0x7f; // 0x7f002000, far beyond 1 MiB of RAM
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> SavedState.restore(state, transport(new InterruptRecorder())));
        assertTrue(e.getMessage().contains("used 0x7f002000"), e.getMessage());
    }

    @Test
    void aStatusNoDriverCanReachIsRefused() {
        byte[] state = savedAfterOneRequest();
        int status = 10 + 4 + 4 + 8; // section "device" with its length, device ID, device features
        assertEquals(0b1111, state[status]);
        state[status] = 0b1101; // DRIVER_OK without DRIVER
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> SavedState.restore(state, transport(new InterruptRecorder())));
        assertTrue(e.getMessage().contains("status 0xd"), e.getMessage());
    }

    @Test
    void anotherDeviceIsRefused() throws Exception {
        byte[] state = savedAfterOneRequest();
        try (MmioTransport rng = new MmioTransport(new io.jkvm.devices.virtio.rng.VirtioRng(), memory, new InterruptRecorder())) {
            SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> SavedState.restore(state, rng));
            assertTrue(e.getMessage().contains("virtio device 42"), e.getMessage());
        }
    }

    @Test
    void savingARunningTransportIsABug() {
        assertThrows(IllegalStateException.class, () -> SavedState.save(transport));
    }

    @Test
    void corruptStateIsRefusedCleanly() throws Exception {
        byte[] state = savedAfterOneRequest();
        SavedState.assertCorruptionRefused(state, () -> new MmioTransport(new TestDevice(2), memory, new InterruptRecorder()));
    }

    /** Where the body of section {@code name} starts in {@code state}: after its name and its length. */
    static int body(byte[] state, String name) {
        byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + bytes.length <= state.length; i++) {
            for (int j = 0; j < bytes.length; j++) if (state[i + j] != bytes[j]) continue outer;
            return i + bytes.length + 4;
        }
        throw new AssertionError("no section " + name);
    }
}
