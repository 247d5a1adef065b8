package io.jkvm.devices.virtio.net;

import io.jkvm.devices.CounterSet;
import io.jkvm.devices.virtio.ConfigSpace;
import io.jkvm.devices.virtio.DescriptorChain;
import io.jkvm.devices.virtio.GuestErrorLog;
import io.jkvm.devices.virtio.VirtioDevice;
import io.jkvm.devices.virtio.VirtioFeature;
import io.jkvm.devices.virtio.Virtqueue;
import io.jkvm.io.FrameChannel;
import io.jkvm.io.IoVector;
import io.jkvm.kvm.sys.Tun;
import io.jkvm.memory.GuestMemory;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.LongAdder;

/**
 * A virtio network device (virtio 1.2 §5.1) with one receive and one transmit queue over a host
 * {@link FrameChannel} (a TAP). Frames move straight between the TAP and guest buffers, one readv or
 * writev each, the 12-byte virtio_net_hdr_v1 passed through as the TAP's vnet header.
 *
 * <p><b>Receive</b> runs on the receive queue's I/O thread. It reads a frame only into room for the largest
 * frame the driver may get ({@link ReceiveBuffers}), so none is truncated; while the driver has posted too
 * little it waits for the driver's notification, and only while it has room does it ask to be woken by the
 * TAP ({@link #readinessFd}): nothing spins, and no frame is taken from the TAP that could not be delivered.
 * After {@link #RX_BUDGET} frames it returns, so the driver gets its interrupt, and goes on at once.
 *
 * <p><b>Transmit</b>: each chain's device-readable part is the header and one frame, written with one
 * writev (§5.1.6.2); the chain is returned with used length 0.
 *
 * <p>Offloads: the host stack may hand the guest checksum-partial and TSO frames exactly as far as the driver
 * accepted GUEST_CSUM and GUEST_TSO4/6 (TUNSETOFFLOAD at DRIVER_OK); what the guest sends with CSUM and
 * HOST_TSO4/6 the TAP takes as the header describes.
 *
 * <p>Snapshots: the saved state is the receive buffers held (by their heads) and the configuration space, to
 * check that the device has the same MAC and MTU. The TAP is host state: the machine opens it again, and the
 * transport's {@link #activate} after the restore sets its offloads; frames the TAP held meanwhile are lost,
 * as on a real link.
 */
public final class VirtioNet implements VirtioDevice {
    /** §5: device ID of a network card. */
    public static final int DEVICE_ID = 1;
    public static final int QUEUE_SIZE = 256;
    /** §5.1.2: receiveq1 and transmitq1 (no VIRTIO_NET_F_MQ, no control queue). */
    public static final int RECEIVE_QUEUE = 0, TRANSMIT_QUEUE = 1;

    // §5.1.3 feature bits
    public static final long VIRTIO_NET_F_CSUM = 1L << 0;
    public static final long VIRTIO_NET_F_GUEST_CSUM = 1L << 1;
    public static final long VIRTIO_NET_F_MTU = 1L << 3;
    public static final long VIRTIO_NET_F_MAC = 1L << 5;
    public static final long VIRTIO_NET_F_GUEST_TSO4 = 1L << 7;
    public static final long VIRTIO_NET_F_GUEST_TSO6 = 1L << 8;
    /**
     * Not offered (nor HOST_UFO, bit 14): Linux 4.14 removed UDP fragmentation offload from its stack, so no
     * TAP hands its reader a UFO frame, and TUNSETOFFLOAD takes TUN_F_UFO only to ignore it (drivers/net/tun.c
     * set_offload). Offering it would promise the driver frames that never come; Firecracker offers it anyway.
     */
    public static final long VIRTIO_NET_F_GUEST_UFO = 1L << 10;
    public static final long VIRTIO_NET_F_HOST_TSO4 = 1L << 11;
    public static final long VIRTIO_NET_F_HOST_TSO6 = 1L << 12;
    public static final long VIRTIO_NET_F_MRG_RXBUF = 1L << 15;
    private static final long GUEST_GSO = VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6;

    // §5.1.4 struct virtio_net_config: u8 mac[6]; le16 status; le16 max_virtqueue_pairs; le16 mtu
    private static final int CONFIG_MAC = 0;
    private static final int CONFIG_MTU = 10;
    private static final int CONFIG_SIZE = 12;

    /** Frames received per pass before the driver gets its interrupt. */
    static final int RX_BUDGET = 64;

    private final FrameChannel channel;
    private final long features;
    private final int mtu;
    private final ConfigSpace config = new ConfigSpace(CONFIG_SIZE);
    private final GuestErrorLog log;
    private final ReceiveBuffers rx;
    /** One transmitted frame's buffers: no more than the descriptors of a chain. */
    private final IoVector tx = new IoVector(QUEUE_SIZE);

    // Set by activate (before DRIVER_OK is visible to the I/O threads), read by them.
    private boolean mergeable;
    private long rxRoom;
    /** The longest frame without GSO the driver may get: unlimited unless it accepted VIRTIO_NET_F_MTU. */
    private long maxPlainFrame;
    /** Whether the receive queue has room and found the TAP empty: then the TAP's readiness wakes it. */
    private volatile boolean awaitingFrames;

    // Frames and their bytes (without the virtio_net_hdr), counted on the receive and transmit I/O threads.
    private final CounterSet counted = new CounterSet();
    private final LongAdder rxFrames = counted.add("rx_frames");
    private final LongAdder rxBytes = counted.add("rx_bytes");
    private final LongAdder rxDropped = counted.add("rx_dropped");
    private final LongAdder txFrames = counted.add("tx_frames");
    private final LongAdder txBytes = counted.add("tx_bytes");
    private final LongAdder txDropped = counted.add("tx_dropped");

    /**
     * @param mac   the address the device offers (VIRTIO_NET_F_MAC); without it the driver picks one
     * @param mtu   the MTU the device advises (VIRTIO_NET_F_MTU, 68-65535, §5.1.4.1)
     * @param name  for log messages, e.g. the TAP's name
     */
    public VirtioNet(FrameChannel channel, Optional<MacAddress> mac, OptionalInt mtu, String name) {
        this.channel = channel;
        this.log = new GuestErrorLog(VirtioNet.class, "virtio-net " + name);
        this.rx = new ReceiveBuffers(QUEUE_SIZE, log);
        long f = VirtioFeature.TRANSPORT_FEATURES | VIRTIO_NET_F_CSUM | VIRTIO_NET_F_GUEST_CSUM
                | VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6 | VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_HOST_TSO6
                | VIRTIO_NET_F_MRG_RXBUF;
        if (mac.isPresent()) {
            f |= VIRTIO_NET_F_MAC;
            for (int i = 0; i < MacAddress.BYTES; i++) config.put8(CONFIG_MAC + i, mac.get().octet(i));
        }
        if (mtu.isPresent()) {
            if (mtu.getAsInt() < 68 || mtu.getAsInt() > 65535)
                throw new IllegalArgumentException("MTU must be 68-65535 (virtio 1.2 §5.1.4.1), not " + mtu.getAsInt());
            f |= VIRTIO_NET_F_MTU;
            config.put16(CONFIG_MTU, mtu.getAsInt());
        }
        this.mtu = mtu.orElse(NetHeader.DEFAULT_MTU);
        this.features = f;
    }

    @Override
    public int deviceId() {
        return DEVICE_ID;
    }

    @Override
    public String name() {
        return "virtio-net";
    }

    /** Frames delivered to the guest and sent for it, their bytes, and those dropped either way. */
    @Override
    public Map<String, Long> counters() {
        return counted.snapshot();
    }

    @Override
    public long features() {
        return features;
    }

    @Override
    public int queueCount() {
        return 2;
    }

    @Override
    public int maxQueueSize() {
        return QUEUE_SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        return config.read(offset, size);
    }

    /** The offloads of frames to the guest follow what the driver accepted; TUN_F_TSO* need TUN_F_CSUM. */
    @Override
    public void activate(long negotiated) {
        mergeable = (negotiated & VIRTIO_NET_F_MRG_RXBUF) != 0;
        boolean mtuNegotiated = (negotiated & VIRTIO_NET_F_MTU) != 0;
        long mtuFrame = NetHeader.SIZE + NetHeader.ETHERNET_HEADER + NetHeader.VLAN_TAG
                + (mtuNegotiated ? mtu : NetHeader.DEFAULT_MTU);
        rxRoom = (negotiated & GUEST_GSO) != 0 ? NetHeader.MAX_GSO_FRAME : mtuFrame;
        maxPlainFrame = mtuNegotiated ? mtuFrame : Long.MAX_VALUE;
        int offloads = 0;
        if ((negotiated & VIRTIO_NET_F_GUEST_CSUM) != 0) {
            offloads = Tun.TUN_F_CSUM;
            if ((negotiated & VIRTIO_NET_F_GUEST_TSO4) != 0) offloads |= Tun.TUN_F_TSO4;
            if ((negotiated & VIRTIO_NET_F_GUEST_TSO6) != 0) offloads |= Tun.TUN_F_TSO6;
        }
        try {
            channel.setOffloads(offloads);
        } catch (IOException e) {
            log.errorOnce("offload", "the TAP refused the guest's offloads; frames reach it without them", e);
        }
    }

    @Override
    public void reset() {
        awaitingFrames = false;
        rx.clear();
    }

    @Override
    public void close() {
        channel.close();
    }

    @Override
    public void saveState(StateWriter out) {
        out.section("config", config);
        out.section("rx", rx);
    }

    @Override
    public void restoreState(StateReader in) {
        in.section("config", config);
        in.section("rx", rx);
    }

    @Override
    public int readinessFd(int index) {
        return index == RECEIVE_QUEUE && awaitingFrames ? channel.readinessFd() : -1;
    }

    @Override
    public void processQueue(int index, Virtqueue queue) {
        if (index == RECEIVE_QUEUE) receive(queue);
        else transmit(queue);
    }

    private void receive(Virtqueue queue) {
        GuestMemory memory = queue.memory();
        for (int frames = 0; frames < RX_BUDGET; frames++) {
            if (!rx.fill(queue, rxRoom, mergeable)) {
                awaitingFrames = false; // until the driver posts buffers and notifies
                return;
            }
            long length;
            try {
                length = channel.receive(rx.vector(memory));
            } catch (IOException e) {
                log.errorOnce("rx-io", "reading the TAP failed; receiving stops until the driver notifies", e);
                awaitingFrames = false;
                return;
            }
            if (length == FrameChannel.NO_FRAME) {
                awaitingFrames = true;
                return;
            }
            if (rx.deliver(queue, length, maxPlainFrame)) {
                rxFrames.increment();
                rxBytes.add(length - NetHeader.SIZE);
            } else {
                rxDropped.increment();
            }
        }
        awaitingFrames = true;
    }

    private void transmit(Virtqueue queue) {
        GuestMemory memory = queue.memory();
        for (DescriptorChain chain = queue.next(); chain != null; chain = queue.next()) {
            if (chain.readableBytes() < NetHeader.SIZE) {
                log.warnOnce("tx-chain", "transmit buffer shorter than the header; dropped");
                txDropped.increment();
            } else {
                send(memory, chain);
            }
            queue.complete(0);
        }
    }

    private void send(GuestMemory memory, DescriptorChain chain) {
        tx.clear();
        for (int i = 0; i < chain.readableCount(); i++) {
            if (chain.length(i) != 0) tx.add(memory, chain.address(i), chain.length(i));
        }
        try {
            channel.send(tx);
            txFrames.increment();
            txBytes.add(chain.readableBytes() - NetHeader.SIZE);
        } catch (IOException e) {
            log.warnOnce("tx-io", e.getMessage() + "; frame dropped (is the TAP up?)");
            txDropped.increment();
        }
    }
}
