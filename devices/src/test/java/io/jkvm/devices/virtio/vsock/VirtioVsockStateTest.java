package io.jkvm.devices.virtio.vsock;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.devices.SavedState;
import io.jkvm.devices.virtio.InterruptRecorder;
import io.jkvm.devices.virtio.MmioTransport;
import io.jkvm.snapshot.SnapshotFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-vsock through a snapshot: connections are not saved; the restored device tells the driver so with
 * VIRTIO_VSOCK_EVENT_TRANSPORT_RESET in its event buffer (virtio 1.2 §5.10.6.6), and new connections work.
 */
class VirtioVsockStateTest {
    private static final long EVENT_BUFFER = 0x300000; // where VsockDriver posts its event buffer
    private static final long GUEST_PORT = 5000;

    @TempDir Path dir;
    private final AtomicInteger sockets = new AtomicInteger();
    private VsockDriver guest;
    private ServerSocketChannel listener;
    private SocketChannel hostEnd;

    @BeforeEach
    void open() throws Exception {
        guest = new VsockDriver(nextSocket());
    }

    @AfterEach
    void close() throws IOException {
        guest.close();
        if (hostEnd != null) hostEnd.close();
        if (listener != null) listener.close();
    }

    private Path nextSocket() {
        return dir.resolve("v" + sockets.incrementAndGet() + ".sock");
    }

    private MmioTransport restoredDevice(long cid, InterruptRecorder irq) {
        try {
            return new MmioTransport(VirtioVsock.open(cid, nextSocket()), guest.memory, irq);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The guest has a connection open to a host program when the machine pauses and saves. */
    private byte[] savedWithAConnection() throws Exception {
        listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(dir.resolve("v1.sock_1234")));
        guest.send(VsockOp.REQUEST, GUEST_PORT, 1234, 0, new byte[0], 65536, 0);
        assertEquals(VsockOp.RESPONSE, guest.receive().op());
        hostEnd = listener.accept();
        assertEquals(1, guest.device.muxer().connectionCount());
        guest.transport.pause();
        return SavedState.save(guest.transport);
    }

    @Test
    void theRestoredDeviceSendsTransportResetAndTakesNewConnections() throws Exception {
        byte[] state = savedWithAConnection();
        InterruptRecorder irq = new InterruptRecorder();
        try (MmioTransport restored = SavedState.restore(state, restoredDevice(VsockDriver.GUEST_CID, irq))) {
            restored.start();
            assertTrue(irq.awaitEdge(), "the rx interrupt pending at the save, signalled again");
            assertTrue(irq.awaitEdge(), "the event's interrupt");
            assertEquals(1, guest.event.usedIdx(), "one event");
            assertEquals(4, guest.event.usedLength(0), "struct virtio_vsock_event");
            assertEquals(0, guest.memory.readInt(EVENT_BUFFER), "VIRTIO_VSOCK_EVENT_TRANSPORT_RESET");
            VirtioVsock device = (VirtioVsock) restored.device();
            assertEquals(0, device.muxer().connectionCount(), "connections are not restored");

            try (SocketChannel host = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("v2.sock")))) {
                host.write(ByteBuffer.wrap(("CONNECT " + GUEST_PORT + "\n").getBytes(StandardCharsets.US_ASCII)));
                VsockDriver.Packet request = guest.receive();
                assertEquals(VsockOp.REQUEST, request.op(), "a host connection reaches the guest after the restore");
                assertEquals(GUEST_PORT, request.header().dstPort());
            }
        }
    }

    @Test
    void anotherGuestCidIsRefused() throws Exception {
        byte[] state = savedWithAConnection();
        try (MmioTransport restored = restoredDevice(VsockDriver.GUEST_CID + 1, new InterruptRecorder())) {
            SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> SavedState.restore(state, restored));
            assertTrue(e.getMessage().contains("configuration byte 0 is 0x3 in the snapshot but 0x4 here"), e.getMessage());
        }
    }

    @Test
    void corruptStateIsRefusedCleanly() throws Exception {
        byte[] state = savedWithAConnection();
        SavedState.assertCorruptionRefused(state, () -> restoredDevice(VsockDriver.GUEST_CID, new InterruptRecorder()));
    }
}
