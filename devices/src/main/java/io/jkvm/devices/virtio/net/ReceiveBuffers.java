package io.jkvm.devices.virtio.net;

import io.jkvm.devices.virtio.DescriptorChain;
import io.jkvm.devices.virtio.GuestErrorLog;
import io.jkvm.devices.virtio.Virtqueue;
import io.jkvm.io.IoVector;
import io.jkvm.memory.GuestMemory;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import io.jkvm.snapshot.Stateful;

/**
 * The receive buffers the device has taken from the receive queue but not yet filled (virtio 1.2 §5.1.6.4):
 * one descriptor chain, or with VIRTIO_NET_F_MRG_RXBUF as many chains as it takes to hold the largest frame
 * the driver may be sent. A frame is read from the TAP only into that room, so none is ever truncated; the
 * chains a frame did not need stay here for the next one. Everything is kept in preallocated arrays: nothing
 * is allocated per frame.
 *
 * <p>Used only by the receive queue's I/O thread (and by reset, while that thread does not process the queue).
 *
 * <p>Its saved state is the heads of the held chains, in order: the chains themselves are in guest RAM, which
 * the snapshot restores, and after a restore the first {@link #fill} takes them again from the queue
 * ({@link Virtqueue#reclaim}), parsed and checked as any chain.
 */
final class ReceiveBuffers implements Stateful {
    private final GuestErrorLog log;
    // Held chains, in the order taken: head index, device-writable bytes, end of their segments.
    private final int[] heads;
    private final long[] capacities;
    private final int[] segmentEnds;
    // Their device-writable buffers (guest-physical address, length), chain after chain.
    private final long[] addresses;
    private final long[] lengths;
    private final IoVector vector;
    private int chains;
    private int segments;
    private long bytes;
    /** Heads restored from a snapshot, still to be taken again from the queue. */
    private final int[] restoredHeads;
    private int restoredCount;

    ReceiveBuffers(int maxChains, GuestErrorLog log) {
        this.log = log;
        heads = new int[maxChains];
        restoredHeads = new int[maxChains];
        capacities = new long[maxChains];
        segmentEnds = new int[maxChains];
        addresses = new long[IoVector.IOV_MAX];
        lengths = new long[IoVector.IOV_MAX];
        vector = new IoVector(IoVector.IOV_MAX);
    }

    /** Bytes of room held. */
    long bytes() {
        return bytes;
    }

    /**
     * Takes chains from {@code queue} until {@code room} bytes are held (without {@code mergeable}: until one
     * chain is, whatever its size, as a chain may take only one frame). False if the queue ran out first:
     * then the device waits for the driver's notification (Virtqueue#next asked for it with EVENT_IDX).
     * Chains no frame can go into (device-readable parts, shorter than the header, too many buffers) go back
     * used and empty; Virtqueue#next already returned those with buffers outside guest RAM.
     */
    boolean fill(Virtqueue queue, long room, boolean mergeable) {
        for (int i = 0; i < restoredCount; i++) {
            DescriptorChain chain = queue.reclaim(restoredHeads[i]);
            if (chain != null) hold(queue, chain);
        }
        restoredCount = 0;
        while (mergeable ? bytes < room : chains == 0) {
            if (chains == heads.length) return false; // a queue of tiny buffers: they cannot hold `room`
            DescriptorChain chain = queue.next();
            if (chain == null) return false;
            hold(queue, chain);
        }
        return true;
    }

    /** Keeps {@code chain}'s buffers, or returns it used and empty if no frame can go into it. */
    private void hold(Virtqueue queue, DescriptorChain chain) {
        if (chain.readableCount() != 0 || chain.writableBytes() < NetHeader.SIZE
                || segments + chain.count() > addresses.length) {
            log.warnOnce("rx-chain", "unusable receive buffer (device-readable, shorter than the header or"
                    + " too many descriptors) returned empty");
            queue.complete(0);
            return;
        }
        for (int i = 0; i < chain.count(); i++) {
            if (chain.length(i) == 0) continue;
            addresses[segments] = chain.address(i);
            lengths[segments] = chain.length(i);
            segments++;
        }
        heads[chains] = chain.head();
        capacities[chains] = chain.writableBytes();
        segmentEnds[chains] = segments;
        chains++;
        bytes += chain.writableBytes();
    }

    /** All held buffers as one iovec list, for one read from the TAP. */
    IoVector vector(GuestMemory memory) {
        vector.clear();
        for (int i = 0; i < segments; i++) vector.add(memory, addresses[i], lengths[i]);
        return vector;
    }

    /**
     * Returns the chains a frame of {@code length} bytes (header included) was read into, with their used
     * lengths and num_buffers set in the header (§5.1.6.4: 1 without MRG_RXBUF), published at once so the
     * driver never sees part of a frame. Dropped instead, the buffers staying held: a frame longer than the
     * room (the read cut it short), and one without GSO longer than {@code maxPlainLength} (§5.1.6.4: with
     * VIRTIO_NET_F_MTU, no frame beyond the MTU but a GSO one). Returns whether the frame was delivered.
     */
    boolean deliver(Virtqueue queue, long length, long maxPlainLength) {
        GuestMemory memory = queue.memory();
        if (length > bytes) {
            log.warnOnce("rx-too-long", "a " + length + "-byte frame from the TAP is longer than the " + bytes
                    + " bytes of receive buffers; dropped (is the TAP's MTU above the guest's?)");
            return false;
        }
        if (length > maxPlainLength && (memory.readByte(headerByte(NetHeader.GSO_TYPE)) & ~NetHeader.GSO_ECN) == NetHeader.GSO_NONE) {
            log.warnOnce("rx-above-mtu", "a " + length + "-byte frame from the TAP exceeds the MTU the guest was"
                    + " given; dropped (set the TAP's MTU to the guest's)");
            return false;
        }
        int used = 0;
        long usedBytes = 0;
        for (long left = length; left > 0 || used == 0; used++) {
            long take = Math.min(capacities[used], left);
            queue.addUsed(heads[used], (int) take);
            left -= take;
            usedBytes += capacities[used];
        }
        // num_buffers, le16; the header may be split over the first chain's buffers
        memory.writeByte(headerByte(NetHeader.NUM_BUFFERS), (byte) used);
        memory.writeByte(headerByte(NetHeader.NUM_BUFFERS + 1), (byte) (used >>> 8));
        queue.publishUsed();
        drop(used, usedBytes);
        return true;
    }

    /** The guest address of byte {@code offset} of the header, in the first chain (which holds all of it). */
    private long headerByte(int offset) {
        long left = offset;
        int i = 0;
        while (left >= lengths[i]) left -= lengths[i++];
        return addresses[i] + left;
    }

    /** Forgets the first {@code count} chains, moving the others to the front. */
    private void drop(int count, long droppedBytes) {
        int droppedSegments = segmentEnds[count - 1];
        chains -= count;
        segments -= droppedSegments;
        bytes -= droppedBytes;
        System.arraycopy(heads, count, heads, 0, chains);
        System.arraycopy(capacities, count, capacities, 0, chains);
        System.arraycopy(segmentEnds, count, segmentEnds, 0, chains);
        for (int i = 0; i < chains; i++) segmentEnds[i] -= droppedSegments;
        System.arraycopy(addresses, droppedSegments, addresses, 0, segments);
        System.arraycopy(lengths, droppedSegments, lengths, 0, segments);
    }

    /** Device reset: the driver takes its buffers back with the queue (§2.4). */
    void clear() {
        chains = segments = restoredCount = 0;
        bytes = 0;
    }

    @Override
    public void saveState(StateWriter out) {
        out.u32(chains);
        for (int i = 0; i < chains; i++) out.u16(heads[i]);
    }

    @Override
    public void restoreState(StateReader in) {
        int count = in.u32InRange("the count of held receive buffers", 0, restoredHeads.length);
        for (int i = 0; i < count; i++) restoredHeads[i] = in.u16();
        restoredCount = count;
    }
}
