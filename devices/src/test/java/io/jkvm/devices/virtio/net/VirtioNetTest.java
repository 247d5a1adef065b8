package io.jkvm.devices.virtio.net;

import static io.jkvm.devices.virtio.net.VirtioNet.*;
import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.readable;
import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.writable;
import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.devices.virtio.DeviceStatus;
import io.jkvm.devices.virtio.InterruptRecorder;
import io.jkvm.devices.virtio.MmioTransport;
import io.jkvm.devices.virtio.VirtioFeature;
import io.jkvm.devices.virtio.VirtioMmioDriver;
import io.jkvm.devices.virtio.VirtqueueDriver;
import io.jkvm.kvm.sys.Tun;
import io.jkvm.memory.GuestMemory;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** virtio-net through the MMIO transport and its I/O threads, driven by {@link VirtioNetDriver}, over a {@link FakeTap}. */
class VirtioNetTest {
    private static final long ALL_OFFLOADS = VirtioFeature.VERSION_1 | VirtioFeature.RING_EVENT_IDX | VIRTIO_NET_F_CSUM
            | VIRTIO_NET_F_GUEST_CSUM | VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6 | VIRTIO_NET_F_HOST_TSO4
            | VIRTIO_NET_F_HOST_TSO6;
    private static final long MERGEABLE = ALL_OFFLOADS | VIRTIO_NET_F_MRG_RXBUF;

    private final GuestMemory memory = GuestMemory.allocate(32L << 20);
    private final FakeTap tap = new FakeTap();
    private final InterruptRecorder irq = new InterruptRecorder();
    private final MmioTransport transport = new MmioTransport(
            new VirtioNet(tap, Optional.of(MacAddress.parse("02:00:00:00:00:01")), OptionalInt.of(9000), "test"), memory, irq);
    private final VirtioNetDriver driver = new VirtioNetDriver(memory, transport, QUEUE_SIZE);

    VirtioNetTest() {
        transport.start();
    }

    @AfterEach
    void close() {
        transport.close();
        memory.close();
    }

    /** A frame as the TAP delivers it: a vnet header (flags 0x02, DATA_VALID) and {@code length} random bytes. */
    private static byte[] frame(int length, long seed) {
        byte[] f = new byte[NetHeader.SIZE + length];
        new Random(seed).nextBytes(f);
        Arrays.fill(f, 0, NetHeader.SIZE, (byte) 0);
        f[0] = 0x02;
        return f;
    }

    private static byte[] payload(byte[] frame) {
        return Arrays.copyOfRange(frame, NetHeader.SIZE, frame.length);
    }

    private static void awaitUsed(VirtqueueDriver queue, int idx) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (queue.usedIdx() < idx && System.nanoTime() < deadline) Thread.sleep(1);
        assertEquals(idx, queue.usedIdx());
    }

    @Test
    void offersItsFeaturesMacAndMtu() {
        VirtioMmioDriver mmio = new VirtioMmioDriver(transport);
        assertEquals(DEVICE_ID, mmio.read(VirtioMmioDriver.DEVICE_ID));
        long features = mmio.deviceFeatures();
        for (long f : new long[] {VirtioFeature.VERSION_1, VirtioFeature.RING_EVENT_IDX, VIRTIO_NET_F_CSUM,
                VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_HOST_TSO4,
                VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_MAC, VIRTIO_NET_F_MTU})
            assertNotEquals(0, features & f, "feature " + Long.numberOfTrailingZeros(f));
        assertEquals(0, features & VIRTIO_NET_F_GUEST_UFO, "no UFO: the host stack makes no UFO frames since Linux 4.14");
        assertEquals(0x02, transport.read(VirtioMmioDriver.CONFIG, 1));
        assertEquals(0x01, transport.read(VirtioMmioDriver.CONFIG + 5, 1));
        assertEquals(9000, transport.read(VirtioMmioDriver.CONFIG + 10, 2));
        VirtioNet plain = new VirtioNet(tap, Optional.empty(), OptionalInt.empty(), "plain");
        assertEquals(0, plain.features() & (VIRTIO_NET_F_MAC | VIRTIO_NET_F_MTU));
        assertThrows(IllegalArgumentException.class, () -> new VirtioNet(tap, Optional.empty(), OptionalInt.of(67), "x"));
    }

    @Test
    void offloadsFollowTheAcceptedFeatures() throws Exception {
        assertEquals(DeviceStatus.DRIVER_OK, driver.start(MERGEABLE) & DeviceStatus.DRIVER_OK);
        assertEquals(Tun.TUN_F_CSUM | Tun.TUN_F_TSO4 | Tun.TUN_F_TSO6, tap.offloads);
        VirtioMmioDriver mmio = new VirtioMmioDriver(transport);
        mmio.write(VirtioMmioDriver.STATUS, 0);
        new VirtioNetDriver(memory, transport, QUEUE_SIZE).start(VirtioFeature.VERSION_1 | VIRTIO_NET_F_GUEST_TSO4);
        assertEquals(0, tap.offloads, "TSO without GUEST_CSUM is not an offload the TAP may use");
    }

    @Test
    void mergeableFrameSpansBuffersWithNumBuffers() throws Exception {
        driver.start(MERGEABLE);
        driver.postReceiveBuffers(40, 2048); // 80 KiB: room for a 64 KiB GSO frame
        byte[] big = frame(5000, 1), small = frame(60, 2);
        tap.push(big);
        tap.push(small);
        VirtioNetDriver.Received r = driver.awaitReceive();
        assertNotNull(r, "frame received");
        assertEquals(3, r.numBuffers(), "5012 bytes in 2048-byte buffers");
        assertArrayEquals(payload(big), r.frame());
        assertEquals(0x02, r.header()[0], "the TAP's header flags reach the driver");
        assertEquals(2048, driver.rx.usedLength(0));
        assertEquals(5012 - 4096, driver.rx.usedLength(2));
        VirtioNetDriver.Received second = driver.awaitReceive();
        assertEquals(1, second.numBuffers());
        assertArrayEquals(payload(small), second.frame());
        assertTrue(irq.awaitEdge(), "receive interrupt");
    }

    @Test
    void noFrameIsTakenFromTheTapUntilTheGuestPostedRoomForTheLargest() throws Exception {
        driver.start(MERGEABLE);
        driver.postReceiveBuffers(16, 2048); // 32 KiB < 65562
        tap.push(frame(100, 3));
        Thread.sleep(200);
        assertEquals(0, tap.receiveCalls.get(), "the TAP is not read without room for a whole frame");
        assertEquals(1, tap.waiting());
        assertEquals(0, driver.pendingUsed());
        driver.postReceiveBuffers(24, 2048); // the driver's notification wakes the device
        VirtioNetDriver.Received r = driver.awaitReceive();
        assertNotNull(r);
        assertEquals(1, r.numBuffers());
    }

    @Test
    void withoutOffloadsMergeableRoomIsOneMtuFrame() throws Exception {
        driver.start(VirtioFeature.VERSION_1 | VIRTIO_NET_F_MRG_RXBUF);
        driver.postReceiveBuffers(1, 1536); // 12 + 14 + 4 + 1500 = 1530
        byte[] f = frame(1514, 4);
        tap.push(f);
        VirtioNetDriver.Received r = driver.awaitReceive();
        assertNotNull(r);
        assertArrayEquals(payload(f), r.frame());
    }

    @Test
    void withTheMtuNegotiatedNoPlainFrameBeyondItReachesTheDriver() throws Exception {
        driver.start(VirtioFeature.VERSION_1 | VIRTIO_NET_F_MRG_RXBUF | VIRTIO_NET_F_MTU);
        driver.postReceiveBuffers(16, 4096);
        tap.push(frame(14 + 9000 + 4 + 1, 12)); // one byte beyond MTU 9000 with a VLAN tag
        byte[] fits = frame(14 + 9000, 13);
        tap.push(fits);
        VirtioNetDriver.Received r = driver.awaitReceive();
        assertNotNull(r);
        assertArrayEquals(payload(fits), r.frame());
        assertEquals(0, driver.pendingUsed());
    }

    @Test
    void bigReceiveChainWithoutMergeableBuffers() throws Exception {
        driver.start(ALL_OFFLOADS);
        driver.postBigReceiveChain(17, 4096); // as Linux's big packets: 17 pages
        driver.postBigReceiveChain(17, 4096);
        byte[] gso = frame(65550, 5), small = frame(42, 6);
        tap.push(gso);
        tap.push(small);
        VirtioNetDriver.Received r = driver.awaitReceive();
        assertNotNull(r);
        assertEquals(1, r.numBuffers(), "§5.1.6.4: num_buffers is 1 without MRG_RXBUF");
        assertArrayEquals(payload(gso), r.frame());
        assertArrayEquals(payload(small), driver.awaitReceive().frame());
    }

    @Test
    void aFrameLongerThanTheBufferIsDroppedNeverTruncated() throws Exception {
        driver.start(VirtioFeature.VERSION_1);
        driver.postBigReceiveChain(1, 1530);
        tap.push(frame(3000, 7)); // a TAP whose MTU is above the guest's
        byte[] fits = frame(1000, 8);
        tap.push(fits);
        VirtioNetDriver.Received r = driver.awaitReceive();
        assertNotNull(r);
        assertArrayEquals(payload(fits), r.frame(), "the buffer went to the next frame that fits");
        assertEquals(0, driver.pendingUsed());
    }

    @Test
    void theTapWakesTheReceiveQueueWithoutANotification() throws Exception {
        driver.start(MERGEABLE);
        driver.postReceiveBuffers(64, 4096);
        Thread.sleep(100); // the device found the TAP empty and polls it
        for (int i = 0; i < 100; i++) {
            byte[] f = frame(1000 + i, 100 + i);
            tap.push(f);
            VirtioNetDriver.Received r = driver.awaitReceive();
            assertNotNull(r, "frame " + i);
            assertArrayEquals(payload(f), r.frame());
            driver.postReceiveBuffers(1, 4096);
        }
    }

    @Test
    void transmitsEachChainAsOneFrame() throws Exception {
        driver.start(MERGEABLE);
        byte[] header = new byte[NetHeader.SIZE];
        header[0] = 1; // NEEDS_CSUM: passed on as the guest wrote it
        byte[] data = payload(frame(3000, 9));
        driver.transmit(header, data, 3);
        byte[] sent = tap.sent();
        assertNotNull(sent);
        assertArrayEquals(header, Arrays.copyOf(sent, NetHeader.SIZE));
        assertArrayEquals(data, Arrays.copyOfRange(sent, NetHeader.SIZE, sent.length));
        assertTrue(irq.awaitEdge());
        awaitUsed(driver.tx, 1);
        assertEquals(0, driver.tx.usedLength(0));
    }

    @Test
    void countsFramesAndBytesBothWays() throws Exception {
        driver.start(MERGEABLE);
        driver.postReceiveBuffers(40, 2048);
        tap.push(frame(100, 4));
        assertNotNull(driver.awaitReceive());
        driver.transmit(new byte[NetHeader.SIZE], new byte[60], 1);
        awaitUsed(driver.tx, 1);
        Map<String, Long> expected = Map.of("rx_frames", 1L, "rx_bytes", 100L, "rx_dropped", 0L,
                "tx_frames", 1L, "tx_bytes", 60L, "tx_dropped", 0L);
        long deadline = System.nanoTime() + 5_000_000_000L; // the receive thread counts after it published the frame
        while (!expected.equals(transport.device().counters()) && System.nanoTime() < deadline) Thread.sleep(1);
        assertEquals(expected, transport.device().counters());
        assertEquals("virtio-net", transport.name());
    }

    @Test
    void hostileChainsAreReturnedAndTheDeviceGoesOn() throws Exception {
        driver.start(MERGEABLE);
        long outside = 64L << 20;
        driver.tx.addChain(readable(outside, 100));
        driver.tx.addChain(readable(VirtioNetDriver.DATA, 4)); // shorter than the header
        transport.notifyEventFd(TRANSMIT_QUEUE).signal();
        byte[] header = new byte[NetHeader.SIZE];
        driver.transmit(header, new byte[] {1, 2, 3}, 1);
        byte[] sent = tap.sent();
        assertEquals(NetHeader.SIZE + 3, sent.length, "only the good frame reached the TAP");
        awaitUsed(driver.tx, 3);

        driver.rx.addChain(writable(outside, 4096));
        driver.rx.addChain(readable(VirtioNetDriver.DATA, 4096), writable(VirtioNetDriver.DATA + 4096, 4096));
        driver.postReceiveBuffers(40, 2048);
        tap.push(frame(500, 10));
        awaitUsed(driver.rx, 3);
        assertEquals(0, driver.rx.usedLength(0), "outside RAM: returned empty");
        assertEquals(0, driver.rx.usedLength(1), "device-readable receive buffer: returned empty");
        assertEquals(512, driver.rx.usedLength(2));
        assertEquals(0, transport.read(VirtioMmioDriver.STATUS, 4) & DeviceStatus.DEVICE_NEEDS_RESET);
    }
}
