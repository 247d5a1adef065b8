package io.jkvm.devices.virtio;

import io.jkvm.memory.GuestMemory;
import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import io.jkvm.snapshot.Stateful;
import java.lang.invoke.VarHandle;

/**
 * The device side of a split virtqueue (virtio 1.2 §2.7): descriptor table, available ring (driver area)
 * and used ring (device area) in guest RAM.
 *
 * <pre>
 * descriptor (§2.7.5): le64 addr, le32 len, le16 flags, le16 next            16 bytes each
 * avail (§2.7.6):      le16 flags, le16 idx, le16 ring[size], le16 used_event
 * used (§2.7.8):       le16 flags, le16 idx, {le32 id, le32 len} ring[size], le16 avail_event
 * </pre>
 *
 * Every number read from guest RAM is hostile. The rings are bounds-checked once, when the driver sets
 * QueueReady; an indirect table when it is met; every buffer of a chain before the device sees it.
 * A malformed chain ({@link ChainFault}) goes back to the driver with used length 0. A broken ring (an
 * avail index more than {@code size} ahead, a head index beyond the table) makes the queue {@link #broken()}:
 * it stops until reset and the transport sets DEVICE_NEEDS_RESET (§2.1.2).
 *
 * <p>Access is serialised by the queue's monitor, held only for the ring work of {@link #next} and
 * {@link #complete}, never while the device does its I/O: the transport configures the queue from a vCPU
 * thread meanwhile. A batch, the chains {@link #next} hands out until it returns null, holds at most a
 * queue's worth, so a guest that keeps the avail ring full cannot keep the I/O thread in one wake-up
 * ({@link #endBatch} tells the transport to schedule another). A reset first
 * {@link #stopAfterChainInHand stops the queue} (no chain is handed out after that) and waits for the chain
 * in the device's hands, if any. Processing allocates nothing: one {@link DescriptorChain} is reused.
 *
 * <p>Its {@linkplain Stateful saved state} is the driver's configuration and the device's ring indices; save
 * it while no chain is in hand (the transport is paused). The ring features come back through
 * {@link #setFeatures}, from the transport's restored negotiation.
 */
public final class Virtqueue implements Stateful {
    /** §2.7: the largest Queue Size of a split virtqueue; sizes are powers of two. */
    public static final int MAX_SIZE = 32768;

    private static final int DESCRIPTOR_SIZE = 16;
    // §2.7.5 descriptor flags
    private static final int VIRTQ_DESC_F_NEXT = 0b001;
    private static final int VIRTQ_DESC_F_WRITE = 0b010;
    private static final int VIRTQ_DESC_F_INDIRECT = 0b100;
    // §2.7.6 avail flags
    private static final int VIRTQ_AVAIL_F_NO_INTERRUPT = 0b1;
    // ring header: le16 flags, le16 idx
    private static final int RING_IDX = 2;
    private static final int RING_ENTRIES = 4;
    private static final int USED_ELEMENT_SIZE = 8;

    private final GuestMemory memory;
    private final int maxSize;
    private final DescriptorChain chain;
    private final GuestErrorLog log;

    // Driver-written configuration (§4.2.2 QueueNum, QueueDesc*, QueueDriver*, QueueDevice*).
    private int size;
    private long descriptorTable;
    private long availRing;
    private long usedRing;
    private boolean ready;
    private boolean eventIdx;
    private boolean indirectAllowed;

    // Device state: free-running 16-bit indices (§2.7.6, §2.7.8).
    private int nextAvail;
    private int nextUsed;
    private int signalledUsed;
    private boolean broken;

    // The I/O thread's batch and the chain in hand.
    private int batchBudget;
    private boolean batchCut;
    private boolean inHand;
    /** Bumped by enable and reset: a chain handed out under an older configuration is not completed into this one. */
    private int generation;
    private int chainGeneration;
    private boolean stopping;

    Virtqueue(GuestMemory memory, int maxSize, GuestErrorLog log) {
        if (maxSize < 1 || maxSize > MAX_SIZE || Integer.bitCount(maxSize) != 1)
            throw new IllegalArgumentException("queue size must be a power of two up to 32768: " + maxSize);
        this.memory = memory;
        this.maxSize = maxSize;
        this.chain = new DescriptorChain(maxSize);
        this.log = log;
        this.size = maxSize;
    }

    public GuestMemory memory() {
        return memory;
    }

    public int maxSize() {
        return maxSize;
    }

    synchronized boolean ready() {
        return ready;
    }

    /** Whether the queue stopped on a ring-level protocol violation; cleared by {@link #reset()}. */
    public synchronized boolean broken() {
        return broken;
    }

    /** The driver's Queue Size (QueueNum); meaningful while {@link #ready()}. */
    synchronized int size() {
        return size;
    }

    /** The device's used index (free-running, 16 bits): chains returned since the queue was enabled. */
    synchronized int usedIndex() {
        return nextUsed;
    }

    synchronized long descriptorTable() {
        return descriptorTable;
    }

    synchronized long availRing() {
        return availRing;
    }

    synchronized long usedRing() {
        return usedRing;
    }

    /** Configuration writes are ignored while the queue is ready (§4.2.2.2). */
    synchronized void setSize(int size) {
        if (!ready) this.size = size;
    }

    synchronized void setDescriptorTable(long gpa) {
        if (!ready) descriptorTable = gpa;
    }

    synchronized void setAvailRing(long gpa) {
        if (!ready) availRing = gpa;
    }

    synchronized void setUsedRing(long gpa) {
        if (!ready) usedRing = gpa;
    }

    /** The negotiated ring features: VIRTIO_F_RING_EVENT_IDX and VIRTIO_F_RING_INDIRECT_DESC. */
    synchronized void setFeatures(long negotiated) {
        eventIdx = (negotiated & VirtioFeature.RING_EVENT_IDX) != 0;
        indirectAllowed = (negotiated & VirtioFeature.RING_INDIRECT_DESC) != 0;
    }

    /**
     * QueueReady = 1: checks size and ring placement (§2.7 alignment: table 16, avail 2, used 4; all inside
     * guest RAM) and starts the queue at index 0. Returns false, leaving the queue off, if the layout is bad.
     */
    synchronized boolean enable() {
        if (!layoutValid()) {
            log.warnOnce("queue-layout", "rejected queue layout: " + layout());
            return false;
        }
        ready = true;
        generation++;
        batchBudget = size;
        nextAvail = 0;
        nextUsed = 0;
        signalledUsed = 0;
        broken = false;
        return true;
    }

    private boolean layoutValid() {
        return size >= 1 && size <= maxSize && Integer.bitCount(size) == 1
                && (descriptorTable & 0xf) == 0 && (availRing & 0b1) == 0 && (usedRing & 0b11) == 0
                && memory.contains(descriptorTable, (long) DESCRIPTOR_SIZE * size)
                && memory.contains(availRing, RING_ENTRIES + 2L * size + 2)
                && memory.contains(usedRing, RING_ENTRIES + (long) USED_ELEMENT_SIZE * size + 2);
    }

    private String layout() {
        return String.format("size %d, descriptors %#x, avail %#x, used %#x", size, descriptorTable, availRing, usedRing);
    }

    @Override
    public synchronized void saveState(StateWriter out) {
        out.u32(size).u64(descriptorTable).u64(availRing).u64(usedRing).bool(ready);
        out.u16(nextAvail).u16(nextUsed).u16(signalledUsed).bool(broken);
    }

    /**
     * Into a queue fresh from construction. A ready queue must have the layout {@link #enable} accepts (size a
     * power of two up to the maximum, rings aligned and inside guest RAM); a queue not ready keeps whatever the
     * driver wrote, checked when it enables the queue, as then.
     */
    @Override
    public synchronized void restoreState(StateReader in) {
        size = in.u32();
        descriptorTable = in.u64();
        availRing = in.u64();
        usedRing = in.u64();
        ready = in.bool();
        nextAvail = in.u16();
        nextUsed = in.u16();
        signalledUsed = in.u16();
        broken = in.bool();
        if (ready && !layoutValid())
            throw new SnapshotFormatException("a ready queue has a layout the device would refuse (maximum size "
                    + maxSize + "): " + layout());
        generation++;
        batchBudget = size;
    }

    /** Device reset: the queue stops and forgets its configuration; call {@link #stopAfterChainInHand} first. */
    synchronized void reset() {
        ready = false;
        generation++;
        stopping = false;
        broken = false;
        size = maxSize;
        descriptorTable = availRing = usedRing = 0;
        eventIdx = indirectAllowed = false;
        nextAvail = nextUsed = signalledUsed = 0;
    }

    synchronized void disable() {
        ready = false;
    }

    /**
     * The first step of a reset: no chain is handed out from now until {@link #reset}, and this waits until
     * the device has completed (or its batch has ended without completing) the chain in its hands, if any.
     * Bounded by one request; call it without holding the transport's lock.
     */
    synchronized void stopAfterChainInHand() {
        stopping = true;
        boolean interrupted = false;
        while (inHand) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /**
     * Ends the I/O thread's batch, normally or because the device threw; returns true when {@link #next} cut
     * it short with chains perhaps still available, for the caller to schedule another wake-up.
     */
    synchronized boolean endBatch() {
        if (inHand) chainReleased();
        boolean cut = batchCut;
        batchCut = false;
        return cut;
    }

    private void chainReleased() {
        inHand = false;
        notifyAll();
    }

    /**
     * The next well-formed chain the driver made available, or null when there is none, when the queue is not
     * ready, broken or stopping for a reset, or when this batch has had a queue's worth. The returned object
     * is reused: complete it with {@link #complete} before calling {@code next()} again. With EVENT_IDX, an
     * empty ring publishes avail_event and re-checks (§2.7.10).
     */
    public synchronized DescriptorChain next() {
        if (inHand) chainReleased(); // a device that did not complete its chain: it is dropped
        DescriptorChain next = nextInBatch();
        if (next == null) batchBudget = size; // the batch ends here; the next call starts another
        return next;
    }

    private DescriptorChain nextInBatch() {
        while (ready && !broken && !stopping) {
            if (batchBudget == 0) {
                batchCut = true;
                return null;
            }
            int availIdx = readAvailIdx();
            if (availIdx == nextAvail) {
                if (!eventIdx) return null;
                memory.writeShort(availEventAddress(), (short) nextAvail);
                VarHandle.fullFence(); // avail_event store before the re-read of avail idx
                if (readAvailIdx() == nextAvail) return null;
                continue;
            }
            int pending = (availIdx - nextAvail) & 0xffff;
            if (pending > size) {
                breakQueue("avail-jump", String.format("avail idx %d is %d entries ahead of %d in a queue of %d",
                        availIdx, pending, nextAvail, size));
                return null;
            }
            VarHandle.acquireFence(); // ring entries and descriptors after the avail idx that published them
            int head = memory.readShort(availRing + RING_ENTRIES + 2L * (nextAvail & (size - 1))) & 0xffff;
            nextAvail = (nextAvail + 1) & 0xffff;
            batchBudget--;
            if (head >= size) {
                breakQueue("head-index", "available head index " + head + " beyond queue size " + size);
                return null;
            }
            DescriptorChain taken = take(head);
            if (taken != null) return taken;
        }
        return null;
    }

    /** The chain at {@code head}, in hand; or, malformed, returned used and empty (null). */
    private DescriptorChain take(int head) {
        ChainFault fault = parse(head);
        if (fault == null) {
            inHand = true;
            chainGeneration = generation;
            return chain;
        }
        log.warnOnce(fault.name(), "malformed descriptor chain at head " + head + ": " + fault);
        putUsed(head, 0);
        return null;
    }

    /**
     * A chain the device had taken with {@link #next} and still held when its state was saved (a network
     * device's receive buffers), taken again after the restore from its {@code head}: parsed and checked as
     * {@code next()} does (guest RAM came back with the snapshot; a restored head is host input), or null when
     * the queue is not serving, the head is beyond the table, or the chain is malformed now (then it is
     * returned used and empty). Use it as a chain from {@code next()}.
     */
    public synchronized DescriptorChain reclaim(int head) {
        if (inHand) chainReleased();
        if (!ready || broken || stopping) return null;
        if (head < 0 || head >= size) {
            log.warnOnce("reclaim-head", "restored head index " + head + " beyond queue size " + size + " ignored");
            return null;
        }
        return take(head);
    }

    /**
     * Returns the current chain to the driver: used element, release fence, then used idx (§2.7.8); not if the
     * queue was re-enabled or reset since the chain was handed out (its ring is no longer this one).
     */
    public synchronized void complete(int writtenLength) {
        if (!inHand) return;
        chainReleased();
        if (chainGeneration == generation) putUsed(chain.head(), writtenLength);
    }

    /**
     * Writes a used element for the chain at {@code head} (taken earlier with {@link #next()}) without
     * publishing it: several elements that belong together (the buffers of one mergeable receive, §5.1.6.4)
     * become visible to the driver at once with {@link #publishUsed()}.
     */
    public synchronized void addUsed(int head, int writtenLength) {
        long element = usedRing + RING_ENTRIES + (long) USED_ELEMENT_SIZE * (nextUsed & (size - 1));
        memory.writeInt(element, head);
        memory.writeInt(element + 4, writtenLength);
        nextUsed = (nextUsed + 1) & 0xffff;
    }

    /** Publishes the used elements added so far: release fence, then the used idx (§2.7.8). */
    public synchronized void publishUsed() {
        VarHandle.releaseFence(); // the elements (and the buffers they describe) before the idx
        memory.writeShort(usedRing + RING_IDX, (short) nextUsed);
    }

    private void putUsed(int head, int writtenLength) {
        addUsed(head, writtenLength);
        publishUsed();
    }

    /**
     * Whether the driver wants an interrupt for the buffers used since the last call: with EVENT_IDX,
     * vring_need_event(used_event, new, old) (§2.7.10); otherwise unless VIRTQ_AVAIL_F_NO_INTERRUPT (§2.7.7).
     */
    public synchronized boolean needsInterrupt() {
        if (!ready) return false;
        VarHandle.fullFence(); // our used idx store before the read of the driver's suppression field
        int old = signalledUsed;
        int now = nextUsed;
        if (old == now) return false;
        signalledUsed = now;
        if (eventIdx) {
            int usedEvent = memory.readShort(availRing + RING_ENTRIES + 2L * size) & 0xffff;
            return ((now - usedEvent - 1) & 0xffff) < ((now - old) & 0xffff);
        }
        return (memory.readShort(availRing) & VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
    }

    private int readAvailIdx() {
        return memory.readShort(availRing + RING_IDX) & 0xffff;
    }

    private long availEventAddress() {
        return usedRing + RING_ENTRIES + (long) USED_ELEMENT_SIZE * size;
    }

    private void breakQueue(String kind, String detail) {
        broken = true;
        log.warnOnce(kind, detail + "; queue stopped until reset");
    }

    /** Walks the chain from {@code head} into {@link #chain}; the first fault found, or null (§2.7.5, §2.7.5.3). */
    private ChainFault parse(int head) {
        chain.reset(head);
        long table = descriptorTable;
        int tableSize = size;
        boolean inIndirect = false;
        int index = head;
        int visited = 0;
        while (true) {
            if (index >= tableSize) return ChainFault.INDEX_OUT_OF_RANGE;
            if (++visited > tableSize) return ChainFault.LOOP;
            long descriptor = table + (long) DESCRIPTOR_SIZE * index;
            long address = memory.readLong(descriptor);
            long length = memory.readInt(descriptor + 8) & 0xffff_ffffL;
            int flags = memory.readShort(descriptor + 12) & 0xffff;
            int next = memory.readShort(descriptor + 14) & 0xffff;
            if ((flags & VIRTQ_DESC_F_INDIRECT) != 0) {
                if (!indirectAllowed) return ChainFault.INDIRECT_NOT_NEGOTIATED;
                if (inIndirect) return ChainFault.NESTED_INDIRECT;
                if ((flags & VIRTQ_DESC_F_NEXT) != 0) return ChainFault.INDIRECT_WITH_NEXT;
                if (length == 0 || length % DESCRIPTOR_SIZE != 0) return ChainFault.INDIRECT_LENGTH;
                if (!memory.contains(address, length)) return ChainFault.INDIRECT_OUTSIDE_RAM;
                table = address;
                tableSize = (int) Math.min(length / DESCRIPTOR_SIZE, Integer.MAX_VALUE);
                inIndirect = true;
                index = 0;
                visited = 0;
                continue;
            }
            boolean writable = (flags & VIRTQ_DESC_F_WRITE) != 0;
            if (!writable && chain.hasWritable()) return ChainFault.READABLE_AFTER_WRITABLE;
            if (length != 0 && !memory.contains(address, length)) return ChainFault.BUFFER_OUTSIDE_RAM;
            if (!chain.add(address, length, writable)) return ChainFault.TOO_LONG;
            if ((flags & VIRTQ_DESC_F_NEXT) == 0) return null;
            index = next;
        }
    }
}
