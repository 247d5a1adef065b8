package io.jkvm.devices.virtio.vsock;

import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.readable;
import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.writable;

import io.jkvm.devices.virtio.DeviceStatus;
import io.jkvm.devices.virtio.InterruptRecorder;
import io.jkvm.devices.virtio.MmioTransport;
import io.jkvm.devices.virtio.VirtioFeature;
import io.jkvm.devices.virtio.VirtioMmioDriver;
import io.jkvm.devices.virtio.VirtqueueDriver;
import io.jkvm.memory.GuestMemory;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The driver side of a vsock device as Linux 6.1's virtio_transport drives it, for tests: negotiation through
 * the MMIO registers, rx buffers of a 44-byte header descriptor plus a 4 KiB data descriptor
 * (virtio_vsock_rx_fill), tx packets as a header descriptor plus a payload descriptor, notifications through
 * the queue eventfds as KVM's ioeventfds would deliver them. It can also post raw chains, to be hostile.
 */
class VsockDriver implements AutoCloseable {
    static final long GUEST_CID = 3;
    /** Linux's VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE. */
    static final int RX_BUF = 4096;
    static final int QUEUE = 64;
    /** rx chains kept posted: two descriptors each, half the ring, so reposting never overwrites a pending one. */
    private static final int RX_POSTED = QUEUE / 2;
    private static final long RX_BUFFERS = 0x100000, TX_HEADER = 0x200000, TX_PAYLOAD = 0x210000, EVENT_BUFFERS = 0x300000;

    /** One packet the device put in an rx buffer. */
    record Packet(VsockHeader header, byte[] payload) {
        VsockOp op() {
            return VsockOp.of(header.opCode());
        }
    }

    final GuestMemory memory = GuestMemory.allocate(4 << 20);
    final VirtioVsock device;
    final MmioTransport transport;
    final VirtqueueDriver rx, tx, event;
    private int rxSeen;
    private int nextRxSlot;
    private final int[] slotOfHead = new int[QUEUE];

    VsockDriver(Path uds) throws Exception {
        this(uds, RX_POSTED);
    }

    /** A driver that keeps {@code rxPosted} rx buffers posted (0: the test posts its own). */
    VsockDriver(Path uds, int rxPosted) throws Exception {
        device = VirtioVsock.open(GUEST_CID, uds);
        transport = new MmioTransport(device, memory, new InterruptRecorder());
        transport.start();
        VirtioMmioDriver mmio = new VirtioMmioDriver(transport);
        int status = mmio.negotiate(VirtioFeature.VERSION_1 | VirtioFeature.RING_EVENT_IDX);
        if ((status & DeviceStatus.FEATURES_OK) == 0) throw new IllegalStateException("features refused");
        rx = new VirtqueueDriver(memory, QUEUE, 0x0000, 0x1000, 0x2000);
        tx = new VirtqueueDriver(memory, QUEUE, 0x3000, 0x4000, 0x5000);
        event = new VirtqueueDriver(memory, QUEUE, 0x6000, 0x7000, 0x8000);
        mmio.setUpQueue(VirtioVsock.RX_QUEUE, rx);
        mmio.setUpQueue(VirtioVsock.TX_QUEUE, tx);
        mmio.setUpQueue(VirtioVsock.EVENT_QUEUE, event);
        for (int i = 0; i < rxPosted; i++) postRx();
        event.addChain(writable(EVENT_BUFFERS, 8));
        mmio.driverOk();
    }

    private void postRx() {
        int slot = nextRxSlot++ % RX_POSTED;
        long base = RX_BUFFERS + slot * 0x2000L;
        int head = rx.addChain(writable(base, VsockHeader.SIZE), writable(base + 64, RX_BUF));
        slotOfHead[head] = slot;
    }

    /** Posts a raw rx chain (hostile tests) and notifies. */
    void postRawRx(VirtqueueDriver.Buffer... buffers) {
        rx.addChain(buffers);
        transport.notifyEventFd(VirtioVsock.RX_QUEUE).signal();
    }

    /** Sends one packet from the guest's CID to the host, waiting until the device used it. */
    void send(VsockOp op, long srcPort, long dstPort, int flags, byte[] payload, long bufAlloc, long fwdCnt) {
        VsockHeader h = new VsockHeader().set(GUEST_CID, VsockMuxer.HOST_CID, srcPort, dstPort, payload.length, op, flags,
                bufAlloc, fwdCnt);
        sendRaw(h.bytes(), payload);
    }

    /** A tx chain of {@code header} bytes and {@code payload} (if any), waiting until it was used. */
    void sendRaw(byte[] header, byte[] payload) {
        memory.write(TX_HEADER, header);
        memory.write(TX_PAYLOAD, payload);
        int before = tx.usedIdx();
        if (payload.length == 0) tx.addChain(readable(TX_HEADER, header.length));
        else tx.addChain(readable(TX_HEADER, header.length), readable(TX_PAYLOAD, payload.length));
        transport.notifyEventFd(VirtioVsock.TX_QUEUE).signal();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (tx.usedIdx() == before) {
            if (System.nanoTime() > deadline) throw new AssertionError("tx packet not used within 5 s");
            Thread.onSpinWait();
        }
    }

    /** The next packet for the guest, or null if none comes within {@code timeout}; its rx buffer is reposted. */
    Packet receive(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (rx.usedIdx() == (rxSeen & 0xffff)) {
            if (System.nanoTime() > deadline) return null;
            Thread.sleep(1);
        }
        int head = rx.usedId(rxSeen);
        int length = rx.usedLength(rxSeen);
        rxSeen++;
        long base = RX_BUFFERS + slotOfHead[head] * 0x2000L;
        VsockHeader h = new VsockHeader();
        memory.read(base, h.bytes(), 0, VsockHeader.SIZE);
        if (length != VsockHeader.SIZE + h.len()) throw new AssertionError("used length " + length + " for " + h);
        byte[] payload = memory.read(base + 64, (int) h.len());
        postRx();
        transport.notifyEventFd(VirtioVsock.RX_QUEUE).signal();
        return new Packet(h, payload);
    }

    Packet receive() throws InterruptedException {
        Packet p = receive(Duration.ofSeconds(5));
        if (p == null) throw new AssertionError("no packet for the guest within 5 s");
        return p;
    }

    /** The rx used index, for raw-chain tests. */
    int rxUsed() {
        return rx.usedIdx();
    }

    @Override
    public void close() {
        transport.close();
        memory.close();
    }

    static byte[] bytes(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
