package io.jkvm.devices.virtio.net;

import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.readable;
import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.writable;

import io.jkvm.devices.virtio.DeviceStatus;
import io.jkvm.devices.virtio.MmioTransport;
import io.jkvm.devices.virtio.VirtioMmioDriver;
import io.jkvm.devices.virtio.VirtqueueDriver;
import io.jkvm.devices.virtio.VirtqueueDriver.Buffer;
import io.jkvm.memory.GuestMemory;
import java.io.ByteArrayOutputStream;
import java.util.HashMap;
import java.util.Map;

/**
 * The driver side of virtio-net for tests, as Linux's virtio_net uses it (virtio 1.2 §5.1.6): negotiates,
 * sets up receiveq1 and transmitq1, posts receive buffers (mergeable small ones or one big chain of several
 * descriptors), reassembles received frames from the used ring by num_buffers, and transmits frames whose
 * header and data may be split over descriptors. Notifications go through the queues' eventfds, as KVM's
 * ioeventfds deliver them.
 */
final class VirtioNetDriver {
    static final long RX_RINGS = 0x0, TX_RINGS = 0x10000, DATA = 0x100000;

    private final GuestMemory memory;
    private final MmioTransport transport;
    final VirtqueueDriver rx;
    final VirtqueueDriver tx;
    /** Where each receive chain's first buffer is, by head index (buffers are laid out contiguously per chain). */
    private final Map<Integer, Long> rxBuffers = new HashMap<>();
    private long nextData = DATA;
    private int usedSeen;

    VirtioNetDriver(GuestMemory memory, MmioTransport transport, int queueSize) {
        this.memory = memory;
        this.transport = transport;
        this.rx = new VirtqueueDriver(memory, queueSize, RX_RINGS, RX_RINGS + 0x8000, RX_RINGS + 0x9000);
        this.tx = new VirtqueueDriver(memory, queueSize, TX_RINGS, TX_RINGS + 0x8000, TX_RINGS + 0x9000);
    }

    /** Negotiates {@code features} and brings both queues up; returns the status read back. */
    int start(long features) {
        VirtioMmioDriver mmio = new VirtioMmioDriver(transport);
        int status = mmio.negotiate(features);
        if ((status & DeviceStatus.FEATURES_OK) == 0) return status;
        rx.setUsedEvent(0);
        tx.setUsedEvent(0);
        mmio.setUpQueue(VirtioNet.RECEIVE_QUEUE, rx);
        mmio.setUpQueue(VirtioNet.TRANSMIT_QUEUE, tx);
        mmio.driverOk();
        return (int) mmio.read(VirtioMmioDriver.STATUS);
    }

    private long allocate(long length) {
        long at = nextData;
        nextData += (length + 0xfff) & ~0xfffL;
        return at;
    }

    /** Posts {@code count} one-descriptor receive buffers of {@code size} bytes (mergeable style) and notifies. */
    void postReceiveBuffers(int count, int size) {
        for (int i = 0; i < count; i++) {
            long at = allocate(size);
            rxBuffers.put(rx.addChain(writable(at, size)), at);
        }
        transport.notifyEventFd(VirtioNet.RECEIVE_QUEUE).signal();
    }

    /** Posts one receive chain of {@code pieces} contiguous descriptors of {@code pieceSize} bytes and notifies. */
    void postBigReceiveChain(int pieces, int pieceSize) {
        long at = allocate((long) pieces * pieceSize);
        Buffer[] buffers = new Buffer[pieces];
        for (int i = 0; i < pieces; i++) buffers[i] = writable(at + (long) i * pieceSize, pieceSize);
        rxBuffers.put(rx.addChain(buffers), at);
        transport.notifyEventFd(VirtioNet.RECEIVE_QUEUE).signal();
    }

    /** One received frame: its header's num_buffers and the bytes after the header. */
    record Received(int numBuffers, byte[] header, byte[] frame) {}

    /** The next frame in the receive used ring, or null if none is there (yet). */
    Received receive() {
        if (rx.usedIdx() == usedSeen) return null;
        long first = rxBuffers.get(rx.usedId(usedSeen));
        byte[] header = memory.read(first, NetHeader.SIZE);
        int numBuffers = (header[NetHeader.NUM_BUFFERS] & 0xff) | (header[NetHeader.NUM_BUFFERS + 1] & 0xff) << 8;
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (int i = 0; i < numBuffers; i++) {
            if (rx.usedIdx() == usedSeen) throw new AssertionError("num_buffers " + numBuffers + " but only " + i + " used");
            long at = rxBuffers.get(rx.usedId(usedSeen));
            data.writeBytes(memory.read(at, rx.usedLength(usedSeen)));
            usedSeen++;
        }
        byte[] all = data.toByteArray();
        return new Received(numBuffers, header, java.util.Arrays.copyOfRange(all, NetHeader.SIZE, all.length));
    }

    /** Waits up to 5 s for the next received frame. */
    Received awaitReceive() throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            Received r = receive();
            if (r != null) return r;
            Thread.sleep(1);
        }
        return null;
    }

    /** Number of used receive elements the driver has not consumed. */
    int pendingUsed() {
        return (rx.usedIdx() - usedSeen) & 0xffff;
    }

    /** Transmits {@code header} and {@code frame}, each split into {@code pieces} descriptors, and notifies. */
    void transmit(byte[] header, byte[] frame, int pieces) {
        Buffer[] buffers = new Buffer[2 * pieces];
        int n = 0;
        for (byte[] part : new byte[][] {header, frame}) {
            long at = allocate(part.length);
            memory.write(at, part);
            for (int i = 0; i < pieces; i++) {
                int from = part.length * i / pieces, to = part.length * (i + 1) / pieces;
                buffers[n++] = readable(at + from, to - from);
            }
        }
        tx.addChain(buffers);
        transport.notifyEventFd(VirtioNet.TRANSMIT_QUEUE).signal();
    }
}
