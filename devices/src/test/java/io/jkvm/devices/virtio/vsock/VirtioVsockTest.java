package io.jkvm.devices.virtio.vsock;

import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.readable;
import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.writable;
import static io.jkvm.devices.virtio.vsock.VsockDriver.GUEST_CID;
import static io.jkvm.devices.virtio.vsock.VsockDriver.bytes;
import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.devices.virtio.vsock.VsockDriver.Packet;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The vsock device and its Unix-socket host side against a driver that behaves as Linux's virtio_transport. */
class VirtioVsockTest {
    private static final long GUEST_PORT = 5000;
    private static final long WINDOW = 64 * 1024;
    private static final Duration QUIET = Duration.ofMillis(300);

    @TempDir Path dir;
    private Path uds;
    private VsockDriver guest;

    @BeforeEach
    void open() throws Exception {
        uds = dir.resolve("v.sock");
        guest = new VsockDriver(uds);
    }

    @AfterEach
    void close() {
        guest.close();
    }

    @Test
    void identityAndConfigSpace() {
        assertEquals(19, guest.device.deviceId());
        assertEquals(3, guest.device.queueCount());
        assertEquals(GUEST_CID, guest.device.readConfig(0, 8), "le64 guest_cid");
        assertTrue(Files.exists(uds));
        assertThrows(IllegalArgumentException.class, () -> VirtioVsock.open(2, dir.resolve("x")));
    }

    @Test
    void guestConnectsToAHostListenerAndTheyTalkBothWays() throws Exception {
        try (ServerSocketChannel listener = listen(uds + "_1234")) {
            guest.send(VsockOp.REQUEST, GUEST_PORT, 1234, 0, new byte[0], WINDOW, 0);
            Packet response = guest.receive();
            assertEquals(VsockOp.RESPONSE, response.op());
            assertHeader(response, 1234, GUEST_PORT);
            assertEquals(VsockConnection.BUF_ALLOC, response.header().bufAlloc());
            try (SocketChannel host = listener.accept()) {
                guest.send(VsockOp.RW, GUEST_PORT, 1234, 0, bytes("hello"), WINDOW, 0);
                assertEquals("hello", read(host, 5));
                host.write(ByteBuffer.wrap(bytes("world")));
                Packet data = guest.receive();
                assertEquals(VsockOp.RW, data.op());
                assertEquals("world", new String(data.payload(), StandardCharsets.US_ASCII));

                guest.send(VsockOp.SHUTDOWN, GUEST_PORT, 1234, VsockHeader.SHUTDOWN_RCV | VsockHeader.SHUTDOWN_SEND,
                        new byte[0], WINDOW, 5);
                assertEquals(VsockOp.RST, guest.receive().op(), "full shutdown answered with RST, as Linux waits for");
                assertEquals(-1, host.read(ByteBuffer.allocate(1)), "host stream closed");
                assertEquals(0, guest.device.muxer().connectionCount());
            }
        }
        // the I/O threads count after they hand a packet over: wait for the payload bytes of both ways
        long deadline = System.nanoTime() + 5_000_000_000L;
        while ((guest.device.counters().get("rx_bytes") != 5 || guest.device.counters().get("tx_bytes") != 5)
                && System.nanoTime() < deadline) Thread.sleep(1);
        var counters = guest.device.counters();
        assertEquals(5, counters.get("rx_bytes"), counters::toString);
        assertEquals(5, counters.get("tx_bytes"), counters::toString);
        assertEquals(3, counters.get("tx_packets"), "REQUEST, RW, SHUTDOWN");
        assertTrue(counters.get("rx_packets") >= 3, "RESPONSE, RW, RST and perhaps credit updates: " + counters);
        assertEquals(0, counters.get("tx_dropped"));
        assertEquals(0, counters.get("connections"));
    }

    @Test
    void guestConnectToAPortNobodyListensOnIsReset() throws Exception {
        guest.send(VsockOp.REQUEST, GUEST_PORT, 4321, 0, new byte[0], WINDOW, 0);
        Packet p = guest.receive();
        assertEquals(VsockOp.RST, p.op());
        assertHeader(p, 4321, GUEST_PORT);
    }

    @Test
    void hostConnectsWithFirecrackersProtocol() throws Exception {
        try (SocketChannel host = connect()) {
            host.write(ByteBuffer.wrap(bytes("CONNECT 52\nearly")));
            Packet request = guest.receive();
            assertEquals(VsockOp.REQUEST, request.op());
            assertHeader(request, VsockMuxer.FIRST_LOCAL_PORT, 52);
            guest.send(VsockOp.RESPONSE, 52, VsockMuxer.FIRST_LOCAL_PORT, 0, new byte[0], WINDOW, 0);
            assertEquals("OK 1073741824\n", read(host, 14));
            Packet early = guest.receive();
            assertEquals("early", new String(early.payload(), StandardCharsets.US_ASCII), "bytes after the line are data");
            guest.send(VsockOp.RW, 52, VsockMuxer.FIRST_LOCAL_PORT, 0, bytes("pong"), WINDOW, 5);
            assertEquals("pong", read(host, 4));

            host.shutdownOutput();
            Packet shutdown = guest.receive();
            assertEquals(VsockOp.SHUTDOWN, shutdown.op());
            assertEquals(VsockHeader.SHUTDOWN_SEND, shutdown.header().flags(), "host end of stream: no more data");
            guest.send(VsockOp.RW, 52, VsockMuxer.FIRST_LOCAL_PORT, 0, bytes("after"), WINDOW, 5);
            assertEquals("after", read(host, 5), "the other direction stays open");
            guest.send(VsockOp.RST, 52, VsockMuxer.FIRST_LOCAL_PORT, 0, new byte[0], WINDOW, 5);
            assertEquals(-1, host.read(ByteBuffer.allocate(1)));
        }
    }

    @Test
    void hostConnectRefusedByTheGuestOrMalformedIsClosed() throws Exception {
        try (SocketChannel host = connect()) {
            host.write(ByteBuffer.wrap(bytes("CONNECT 7\n")));
            Packet request = guest.receive();
            guest.send(VsockOp.RST, 7, request.header().srcPort(), 0, new byte[0], 0, 0);
            assertEquals(-1, host.read(ByteBuffer.allocate(16)), "closed without OK");
        }
        try (SocketChannel host = connect()) {
            host.write(ByteBuffer.wrap(bytes("HELLO 7\n")));
            assertEquals(-1, host.read(ByteBuffer.allocate(16)));
        }
        assertNull(guest.receive(QUIET), "nothing reached the guest");
        try (SocketChannel silent = connect()) {
            long start = System.nanoTime();
            assertEquals(-1, silent.read(ByteBuffer.allocate(1)), "no CONNECT line: closed after the timeout");
            assertTrue(System.nanoTime() - start >= VsockMuxer.CONNECT_TIMEOUT_NANOS / 2);
        }
    }

    @Test
    void aGuestThatDoesNotReadStopsTheHostWriter() throws Exception {
        long window = 8192;
        try (SocketChannel host = established(60, window)) {
            host.write(ByteBuffer.wrap(new byte[32 * 1024]));
            long received = 0;
            Packet p;
            while ((p = guest.receive()).op() == VsockOp.RW) received += p.payload().length;
            assertEquals(window, received, "exactly the guest's buf_alloc");
            assertEquals(VsockOp.CREDIT_REQUEST, p.op(), "stalled: asks for credit");
            assertNull(guest.receive(QUIET), "nothing more until the guest makes room");
            guest.send(VsockOp.CREDIT_UPDATE, 60, VsockMuxer.FIRST_LOCAL_PORT, 0, new byte[0], window, window);
            while (received < 2 * window) {
                p = guest.receive();
                assertEquals(VsockOp.RW, p.op());
                received += p.payload().length;
            }
            assertEquals(2 * window, received);
        }
    }

    @Test
    void aMegabyteFromTheHostArrivesIntactInFourKibBuffers() throws Exception {
        byte[] data = new byte[1 << 20];
        new Random(3).nextBytes(data);
        try (SocketChannel host = established(63, WINDOW)) {
            Thread writer = new Thread(() -> {
                try {
                    host.write(ByteBuffer.wrap(data));
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            writer.start();
            MessageDigest got = MessageDigest.getInstance("SHA-256");
            long fwdCnt = 0, reported = 0;
            while (fwdCnt < data.length) {
                Packet p = guest.receive();
                if (p.op() == VsockOp.CREDIT_REQUEST) {
                    guest.send(VsockOp.CREDIT_UPDATE, 63, VsockMuxer.FIRST_LOCAL_PORT, 0, new byte[0], WINDOW, fwdCnt);
                    continue;
                }
                assertEquals(VsockOp.RW, p.op());
                assertTrue(p.payload().length <= VsockDriver.RX_BUF, "a packet fits its buffer");
                got.update(p.payload());
                fwdCnt += p.payload().length;
                if (fwdCnt - reported >= WINDOW / 2) { // as Linux, a credit update once half the window is read
                    guest.send(VsockOp.CREDIT_UPDATE, 63, VsockMuxer.FIRST_LOCAL_PORT, 0, new byte[0], WINDOW, fwdCnt);
                    reported = fwdCnt;
                }
            }
            writer.join();
            assertEquals(data.length, fwdCnt);
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data), got.digest());
        }
    }

    @Test
    void aSlowHostReaderSlowsTheGuestAndAnOverrunIsReset() throws Exception {
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        Random random = new Random(7);
        try (SocketChannel host = established(61, WINDOW)) {
            long local = VsockMuxer.FIRST_LOCAL_PORT;
            long bufAlloc = VsockConnection.BUF_ALLOC, fwdCnt = 0, txCnt = 0;
            while (true) { // the guest sends while its credit lasts, as Linux does; the host reads nothing
                long credit = bufAlloc - (txCnt - fwdCnt);
                if (credit == 0) {
                    guest.send(VsockOp.CREDIT_REQUEST, 61, local, 0, new byte[0], WINDOW, 0);
                    Packet update = guest.receive();
                    assertEquals(VsockOp.CREDIT_UPDATE, update.op());
                    if (update.header().fwdCnt() == fwdCnt) break;
                    fwdCnt = update.header().fwdCnt();
                    continue;
                }
                byte[] chunk = new byte[(int) Math.min(credit, 4096)];
                random.nextBytes(chunk);
                sent.update(chunk);
                guest.send(VsockOp.RW, 61, local, 0, chunk, WINDOW, 0);
                txCnt += chunk.length;
                Packet update = guest.receive(Duration.ZERO);
                if (update != null) fwdCnt = update.header().fwdCnt();
            }
            assertTrue(txCnt >= VsockConnection.BUF_ALLOC, "the guest filled its window: " + txCnt);
            // The host reads it all, and the device tells the guest about the room.
            MessageDigest got = MessageDigest.getInstance("SHA-256");
            ByteBuffer buffer = ByteBuffer.allocate(8192);
            for (long n = 0; n < txCnt; ) {
                buffer.clear();
                int r = host.read(buffer);
                got.update(buffer.array(), 0, r);
                n += r;
            }
            assertArrayEquals(sent.digest(), got.digest());
            Packet update = guest.receive();
            assertEquals(VsockOp.CREDIT_UPDATE, update.op());
            assertTrue(update.header().fwdCnt() > fwdCnt);
        }
        assertEquals(VsockOp.SHUTDOWN, guest.receive().op(), "the host closed the first stream");
        guest.send(VsockOp.RST, 61, VsockMuxer.FIRST_LOCAL_PORT, 0, new byte[0], WINDOW, 0);
        try (SocketChannel host = established(62, WINDOW)) {
            host.configureBlocking(false);
            long local = VsockMuxer.FIRST_LOCAL_PORT + 1;
            byte[] chunk = new byte[65536];
            int n = 0;
            Packet reset = null;
            while (reset == null && n++ < 64) { // far beyond buf_alloc plus any socket buffer
                guest.send(VsockOp.RW, 62, local, 0, chunk, WINDOW, 0);
                reset = guest.receive(Duration.ZERO);
                while (reset != null && reset.op() == VsockOp.CREDIT_UPDATE) reset = guest.receive(Duration.ZERO);
            }
            assertNotNull(reset, "overrun reset");
            assertEquals(VsockOp.RST, reset.op());
            assertEquals(0, guest.device.muxer().connectionCount());
        }
    }

    @Test
    void hostileTxPacketsNeverReachAHostStream() throws Exception {
        guest.sendRaw(new byte[20], new byte[0]); // no full header
        VsockHeader wrongCid = new VsockHeader().set(7, VsockMuxer.HOST_CID, 1, 1234, 0, VsockOp.REQUEST, 0, 0, 0);
        guest.sendRaw(wrongCid.bytes(), new byte[0]);
        assertNull(guest.receive(QUIET), "dropped silently");

        VsockHeader unknownOp = new VsockHeader().set(GUEST_CID, VsockMuxer.HOST_CID, 1, 1234, 0, VsockOp.RW, 0, 0, 0);
        unknownOp.bytes()[30] = 99;
        guest.sendRaw(unknownOp.bytes(), new byte[0]);
        assertEquals(VsockOp.RST, guest.receive().op());
        guest.send(VsockOp.RW, 9, 9, 0, bytes("x"), WINDOW, 0);
        assertEquals(VsockOp.RST, guest.receive().op(), "RW on no connection");

        try (ServerSocketChannel listener = listen(uds + "_77")) {
            guest.send(VsockOp.REQUEST, GUEST_PORT, 77, 0, new byte[0], WINDOW, 0);
            assertEquals(VsockOp.RESPONSE, guest.receive().op());
            try (SocketChannel host = listener.accept()) {
                VsockHeader lying = new VsockHeader().set(GUEST_CID, VsockMuxer.HOST_CID, GUEST_PORT, 77, 1 << 20,
                        VsockOp.RW, 0, WINDOW, 0);
                guest.sendRaw(lying.bytes(), bytes("short"));
                assertEquals(VsockOp.RST, guest.receive().op(), "len beyond the packet");
                assertEquals(-1, host.read(ByteBuffer.allocate(8)));
            }
        }
    }

    @Test
    void hostileRxBuffersAreReturnedUnused() throws Exception {
        guest.close();
        guest = new RawRxDriver(uds);
        guest.postRawRx(readable(0x120000, 64), writable(0x121000, 4096));
        guest.postRawRx(writable(0x3ff000, 0x2000)); // runs past the end of guest RAM
        guest.send(VsockOp.REQUEST, GUEST_PORT, 4321, 0, new byte[0], WINDOW, 0); // an RST for the guest
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (guest.rxUsed() < 2 && System.nanoTime() < deadline) Thread.sleep(1);
        assertEquals(2, guest.rxUsed());
        assertEquals(0, guest.rx.usedLength(0));
        assertEquals(0, guest.rx.usedLength(1));
    }

    /** A driver that posts no rx buffers of its own. */
    private static final class RawRxDriver extends VsockDriver {
        RawRxDriver(Path uds) throws Exception {
            super(uds, 0);
        }
    }

    @Test
    void theConnectionLimitHolds() throws Exception {
        List<SocketChannel> open = new ArrayList<>();
        try {
            for (int i = 0; i < VsockMuxer.MAX_CONNECTIONS; i++) open.add(connect());
            try (SocketChannel extra = connect()) {
                assertEquals(-1, extra.read(ByteBuffer.allocate(1)), "closed at once beyond the limit");
            }
            guest.send(VsockOp.REQUEST, GUEST_PORT, 1, 0, new byte[0], WINDOW, 0);
            assertEquals(VsockOp.RST, guest.receive().op());
        } finally {
            for (SocketChannel s : open) s.close();
        }
    }

    @Test
    void streamsEndWhenTheDriverResetsOrTheDeviceCloses() throws Exception {
        try (SocketChannel first = established(70, WINDOW)) {
            guest.transport.write(0x070, 4, 0); // Status = 0: device reset
            assertEquals(-1, first.read(ByteBuffer.allocate(1)));
        }
        guest.close();
        guest = new VsockDriver(uds);
        try (SocketChannel second = established(71, WINDOW)) {
            guest.close();
            assertEquals(-1, second.read(ByteBuffer.allocate(1)));
            assertFalse(Files.exists(uds), "socket file removed");
        }
        guest = new VsockDriver(uds);
    }

    // ---- helpers ----

    /** A host-initiated stream the guest accepted, with the OK line read. */
    private SocketChannel established(long guestPort, long window) throws Exception {
        SocketChannel host = connect();
        host.write(ByteBuffer.wrap(bytes("CONNECT " + guestPort + "\n")));
        Packet request = guest.receive();
        assertEquals(VsockOp.REQUEST, request.op());
        guest.send(VsockOp.RESPONSE, guestPort, request.header().srcPort(), 0, new byte[0], window, 0);
        String ok = "OK " + request.header().srcPort() + "\n";
        assertEquals(ok, read(host, ok.length()));
        return host;
    }

    private SocketChannel connect() throws IOException {
        return SocketChannel.open(UnixDomainSocketAddress.of(uds));
    }

    private static ServerSocketChannel listen(String path) throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        s.bind(UnixDomainSocketAddress.of(path));
        return s;
    }

    private static String read(SocketChannel s, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        while (b.hasRemaining()) if (s.read(b) < 0) break;
        return new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII);
    }

    private static void assertHeader(Packet p, long srcPort, long dstPort) {
        assertEquals(VsockMuxer.HOST_CID, p.header().srcCid());
        assertEquals(GUEST_CID, p.header().dstCid());
        assertEquals(srcPort, p.header().srcPort());
        assertEquals(dstPort, p.header().dstPort());
        assertEquals(VsockHeader.TYPE_STREAM, p.header().type());
    }
}
