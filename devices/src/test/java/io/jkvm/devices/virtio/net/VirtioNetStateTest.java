package io.jkvm.devices.virtio.net;

import static io.jkvm.devices.virtio.net.VirtioNet.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.devices.SavedState;
import io.jkvm.devices.virtio.InterruptRecorder;
import io.jkvm.devices.virtio.MmioTransport;
import io.jkvm.devices.virtio.VirtioFeature;
import io.jkvm.kvm.sys.Tun;
import io.jkvm.memory.GuestMemory;
import io.jkvm.snapshot.SnapshotFormatException;
import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * virtio-net through a snapshot: the device holds the receive buffers it took (room for the largest frame)
 * while the TAP is empty; the saved state names them, and after a restore over a new TAP the first frame goes
 * into exactly those buffers, which the queue no longer offers.
 */
class VirtioNetStateTest {
    private static final long FEATURES = VirtioFeature.VERSION_1 | VirtioFeature.RING_EVENT_IDX | VIRTIO_NET_F_CSUM
            | VIRTIO_NET_F_GUEST_CSUM | VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6 | VIRTIO_NET_F_MRG_RXBUF;
    private static final MacAddress MAC = MacAddress.parse("02:00:00:00:00:01");

    private final GuestMemory memory = GuestMemory.allocate(32L << 20);

    @AfterEach
    void close() {
        memory.close();
    }

    private static VirtioNet device(FakeTap tap, MacAddress mac) {
        return new VirtioNet(tap, Optional.of(mac), OptionalInt.of(9000), "test");
    }

    /** Saved with 33 of 40 posted 2048-byte buffers held (65562 bytes of room); returns the driver too. */
    private record Saved(byte[] state, VirtioNetDriver driver) {}

    private Saved savedWithBuffersHeld() throws Exception {
        FakeTap tap = new FakeTap();
        try (MmioTransport transport = new MmioTransport(device(tap, MAC), memory, new InterruptRecorder())) {
            transport.start();
            VirtioNetDriver driver = new VirtioNetDriver(memory, transport, QUEUE_SIZE);
            driver.start(FEATURES);
            driver.postReceiveBuffers(40, 2048);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (tap.receiveCalls.get() == 0 && System.nanoTime() < deadline) Thread.sleep(1);
            assertNotEquals(0, tap.receiveCalls.get(), "the device took room for a frame and found the TAP empty");
            transport.pause();
            return new Saved(SavedState.save(transport), driver);
        }
    }

    @Test
    void theFirstFrameAfterTheRestoreGoesIntoTheHeldBuffers() throws Exception {
        Saved saved = savedWithBuffersHeld();
        FakeTap tap = new FakeTap();
        try (MmioTransport restored = new MmioTransport(device(tap, MAC), memory, new InterruptRecorder())) {
            SavedState.restore(saved.state(), restored);
            assertEquals(Tun.TUN_F_CSUM | Tun.TUN_F_TSO4 | Tun.TUN_F_TSO6, tap.offloads, "the new TAP gets the offloads");
            byte[] frame = new byte[NetHeader.SIZE + 5000];
            Arrays.fill(frame, NetHeader.SIZE, frame.length, (byte) 0x5a);
            tap.push(frame);
            restored.start();
            VirtioNetDriver.Received r = saved.driver().awaitReceive();
            assertNotNull(r, "frame received");
            assertEquals(3, r.numBuffers());
            assertArrayEquals(Arrays.copyOfRange(frame, NetHeader.SIZE, frame.length), r.frame());
            assertEquals(0, saved.driver().rx.usedId(0), "the first buffer posted, held across the snapshot");
            tap.push(frame); // 30 held + 7 still in the ring: room again for the largest frame
            assertNotNull(saved.driver().awaitReceive(), "the rest held and the ring's together");
        }
    }

    @Test
    void anotherMacIsRefused() throws Exception {
        Saved saved = savedWithBuffersHeld();
        try (MmioTransport restored = new MmioTransport(device(new FakeTap(), MacAddress.parse("02:00:00:00:00:02")),
                memory, new InterruptRecorder())) {
            SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> SavedState.restore(saved.state(), restored));
            assertTrue(e.getMessage().contains("configuration byte 5 is 0x1 in the snapshot but 0x2 here"), e.getMessage());
        }
    }

    @Test
    void corruptStateIsRefusedCleanly() throws Exception {
        Saved saved = savedWithBuffersHeld();
        SavedState.assertCorruptionRefused(saved.state(), () -> new MmioTransport(device(new FakeTap(), MAC), memory,
                new InterruptRecorder()));
    }
}
