package io.jkvm.devices.virtio.vsock;

import io.jkvm.devices.CounterSet;
import io.jkvm.devices.virtio.ConfigSpace;
import io.jkvm.devices.virtio.DescriptorChain;
import io.jkvm.devices.virtio.GuestErrorLog;
import io.jkvm.devices.virtio.VirtioDevice;
import io.jkvm.devices.virtio.VirtioFeature;
import io.jkvm.devices.virtio.Virtqueue;
import io.jkvm.memory.GuestMemory;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;

/**
 * A virtio socket device (virtio 1.2 §5.10) whose host side is Unix sockets ({@link VsockMuxer}). Three
 * queues: rx (packets for the guest), tx (packets from the guest), event (transport events, which this
 * device sends only after a snapshot is restored). The configuration space is {@code le64 guest_cid}.
 *
 * <p>tx: every chain is one packet, a 44-byte header and its payload in device-readable buffers; it is used
 * with length 0 once the muxer took it. A packet that is not from the guest's CID to the host's is dropped.
 * rx: a chain is taken only while the muxer has a packet waiting (host bytes are read before a buffer is
 * taken); one whose packet vanished meanwhile (a connection reset by a racing thread) is returned with
 * length 0, which Linux drops before it refills the queue.
 * rx chains with device-readable buffers or no room for a header are returned unused (the queue itself
 * returns chains with buffers outside guest RAM).
 *
 * <p>Snapshots: connections are not saved (their host ends are sockets of the old process). The saved state is
 * the configuration space, to check the guest CID; after a restore the device puts
 * VIRTIO_VSOCK_EVENT_TRANSPORT_RESET in the first buffer of the event queue (§5.10.6.6), on which the driver
 * drops every connection, as Firecracker does on snapshot load.
 */
public final class VirtioVsock implements VirtioDevice {
    /** §5: device ID of a socket device. */
    public static final int DEVICE_ID = 19;
    /** §5.10.2 queue indices. */
    public static final int RX_QUEUE = 0, TX_QUEUE = 1, EVENT_QUEUE = 2;
    /** §5.10.4: CIDs 0, 1 and 2 are reserved (2 is the host); u32 0xffffffff is VMADDR_CID_ANY. */
    public static final long MIN_GUEST_CID = 3, MAX_GUEST_CID = 0xffff_fffeL;
    public static final int QUEUE_SIZE = 256;
    private static final int CONFIG_GUEST_CID = 0, CONFIG_SIZE = 8;
    /** §5.10.6.6 struct virtio_vsock_event: le32 id; VIRTIO_VSOCK_EVENT_TRANSPORT_RESET = 0. */
    private static final int EVENT_SIZE = 4, EVENT_TRANSPORT_RESET = 0;
    private static final byte[] TRANSPORT_RESET_EVENT = {EVENT_TRANSPORT_RESET, 0, 0, 0};

    private final long guestCid;
    private final VsockMuxer muxer;
    private final ConfigSpace config = new ConfigSpace(CONFIG_SIZE);
    private final GuestErrorLog log;
    private final VsockHeader txHeader = new VsockHeader();
    /** A restore happened and the driver has not yet been sent TRANSPORT_RESET. */
    private volatile boolean transportResetDue;
    private volatile IntConsumer serviceQueue = q -> { };

    // Packets and their payload bytes, counted on the rx and tx I/O threads.
    private final CounterSet counted = new CounterSet();
    private final LongAdder rxPackets = counted.add("rx_packets");
    private final LongAdder rxBytes = counted.add("rx_bytes");
    private final LongAdder txPackets = counted.add("tx_packets");
    private final LongAdder txBytes = counted.add("tx_bytes");
    private final LongAdder txDropped = counted.add("tx_dropped");

    private VirtioVsock(long guestCid, Path udsPath) throws IOException {
        this.guestCid = guestCid;
        this.log = new GuestErrorLog(VirtioVsock.class, "virtio-vsock " + udsPath);
        this.muxer = new VsockMuxer(guestCid, udsPath, () -> serviceQueue.accept(RX_QUEUE));
        config.put64(CONFIG_GUEST_CID, guestCid);
    }

    /**
     * A device for guest CID {@code guestCid} listening on {@code udsPath}.
     *
     * @throws IllegalArgumentException a CID outside 3 to 2^32-2
     * @throws IOException the Unix socket cannot be created (the message names the path)
     */
    public static VirtioVsock open(long guestCid, Path udsPath) throws IOException {
        if (guestCid < MIN_GUEST_CID || guestCid > MAX_GUEST_CID)
            throw new IllegalArgumentException("vsock cid must be 3 to " + MAX_GUEST_CID + ", not " + guestCid);
        return new VirtioVsock(guestCid, udsPath);
    }

    /** The host side (for tests: its connection count). */
    VsockMuxer muxer() {
        return muxer;
    }

    @Override
    public int deviceId() {
        return DEVICE_ID;
    }

    @Override
    public String name() {
        return "virtio-vsock";
    }

    /** Packets to and from the guest (control packets included), their payload bytes, dropped ones, open connections. */
    @Override
    public Map<String, Long> counters() {
        Map<String, Long> m = counted.snapshot();
        m.put("connections", (long) muxer.connectionCount());
        return m;
    }

    /** No device feature bits: stream sockets only (§5.10.3, no VIRTIO_VSOCK_F_SEQPACKET). */
    @Override
    public long features() {
        return VirtioFeature.TRANSPORT_FEATURES;
    }

    @Override
    public int queueCount() {
        return 3;
    }

    @Override
    public int maxQueueSize() {
        return QUEUE_SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        return config.read(offset, size);
    }

    @Override
    public void bindQueueService(IntConsumer serviceQueue) {
        this.serviceQueue = serviceQueue;
    }

    @Override
    public void processQueue(int index, Virtqueue queue) {
        switch (index) {
            case RX_QUEUE -> fillRx(queue);
            case TX_QUEUE -> drainTx(queue);
            default -> sendTransportResetIfDue(queue);
        }
    }

    /** The event after a restore, into the first event buffer that holds it (others go back unused). */
    private void sendTransportResetIfDue(Virtqueue queue) {
        GuestMemory memory = queue.memory();
        while (transportResetDue) {
            DescriptorChain chain = queue.next();
            if (chain == null) return; // the driver's next event buffer will take it
            if (chain.readableCount() > 0 || chain.writableBytes() < EVENT_SIZE) {
                log.warnOnce("event-chain", "event chain that cannot take an event returned unused");
                queue.complete(0);
                continue;
            }
            chain.writeWritable(memory, 0, TRANSPORT_RESET_EVENT, EVENT_SIZE);
            queue.complete(EVENT_SIZE);
            transportResetDue = false;
        }
    }

    private void drainTx(Virtqueue queue) {
        GuestMemory memory = queue.memory();
        for (DescriptorChain chain = queue.next(); chain != null; chain = queue.next()) {
            if (chain.readReadable(memory, 0, txHeader.bytes(), VsockHeader.SIZE)) {
                if (txHeader.srcCid() == guestCid && txHeader.dstCid() == VsockMuxer.HOST_CID) {
                    txPackets.increment();
                    txBytes.add(txHeader.len());
                    muxer.fromGuest(txHeader, chain, memory);
                } else {
                    log.warnOnce("tx-address", "packet not from the guest's CID to the host dropped: " + txHeader);
                    txDropped.increment();
                }
            } else {
                log.warnOnce("tx-chain", "tx chain without a 44-byte header dropped");
                txDropped.increment();
            }
            queue.complete(0);
        }
    }

    private void fillRx(Virtqueue queue) {
        GuestMemory memory = queue.memory();
        while (muxer.hasPacketForGuest()) {
            DescriptorChain chain = queue.next();
            if (chain == null) return;
            if (chain.readableCount() > 0 || chain.writableBytes() < VsockHeader.SIZE) {
                log.warnOnce("rx-chain", "rx chain that cannot take a packet returned unused");
                queue.complete(0);
                continue;
            }
            int used = muxer.toGuest(chain, memory);
            if (used >= VsockHeader.SIZE) {
                rxPackets.increment();
                rxBytes.add(used - VsockHeader.SIZE);
            }
            queue.complete(used);
        }
    }

    @Override
    public void reset() {
        transportResetDue = false; // a reset device has no connections for the driver to drop
        muxer.reset();
    }

    @Override
    public void saveState(StateWriter out) {
        out.section("config", config);
    }

    @Override
    public void restoreState(StateReader in) {
        in.section("config", config);
        transportResetDue = true;
    }

    @Override
    public void close() {
        muxer.close();
    }
}
