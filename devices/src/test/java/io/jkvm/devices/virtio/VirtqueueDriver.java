package io.jkvm.devices.virtio;

import io.jkvm.memory.GuestMemory;

/**
 * The driver side of a split virtqueue for tests (virtio 1.2 §2.7): lays out the descriptor table, available
 * and used rings in guest memory, builds chains (direct or indirect) and makes them available, and reads back
 * what the device put in the used ring. It can also write any raw descriptor, to build hostile chains.
 */
public final class VirtqueueDriver {
    public static final int F_NEXT = 0b001;
    public static final int F_WRITE = 0b010;
    public static final int F_INDIRECT = 0b100;

    /** One buffer of a chain. */
    public record Buffer(long address, long length, boolean writable) {
        public static Buffer readable(long address, long length) {
            return new Buffer(address, length, false);
        }

        public static Buffer writable(long address, long length) {
            return new Buffer(address, length, true);
        }
    }

    private final GuestMemory memory;
    private final int size;
    private final long descriptorTable;
    private final long availRing;
    private final long usedRing;
    private Virtqueue queue;
    private int nextDescriptor;
    private int availIdx;

    public VirtqueueDriver(GuestMemory memory, int size, long descriptorTable, long availRing, long usedRing) {
        this.memory = memory;
        this.size = size;
        this.descriptorTable = descriptorTable;
        this.availRing = availRing;
        this.usedRing = usedRing;
        memory.fill(descriptorTable, 16L * size, (byte) 0);
        memory.fill(availRing, 6L + 2L * size, (byte) 0);
        memory.fill(usedRing, 6L + 8L * size, (byte) 0);
    }

    /** A driver with its rings at 0x0, 0x8000 and 0x9000 of {@code memory} (room for 2048 entries; data can start at 0x10000). */
    public static VirtqueueDriver atDefaultLayout(GuestMemory memory, int size) {
        return new VirtqueueDriver(memory, size, 0x0, 0x8000, 0x9000);
    }

    /** A ready queue of {@code size} entries (the device's maximum too) with {@code negotiated} ring features. */
    public static VirtqueueDriver withQueue(GuestMemory memory, int size, long negotiated) {
        VirtqueueDriver driver = atDefaultLayout(memory, size);
        Virtqueue q = new Virtqueue(memory, size, new GuestErrorLog(VirtqueueDriver.class, "test"));
        q.setSize(size);
        q.setDescriptorTable(driver.descriptorTable);
        q.setAvailRing(driver.availRing);
        q.setUsedRing(driver.usedRing);
        q.setFeatures(negotiated);
        if (!q.enable()) throw new IllegalStateException("layout rejected");
        driver.queue = q;
        return driver;
    }

    public Virtqueue queue() {
        return queue;
    }

    public GuestMemory memory() {
        return memory;
    }

    public int size() {
        return size;
    }

    public long descriptorTable() {
        return descriptorTable;
    }

    public long availRing() {
        return availRing;
    }

    public long usedRing() {
        return usedRing;
    }

    /** Writes descriptor {@code index} of the table at {@code table}. */
    public void writeDescriptor(long table, int index, long address, long length, int flags, int next) {
        long d = table + 16L * index;
        memory.writeLong(d, address);
        memory.writeInt(d + 8, (int) length);
        memory.writeShort(d + 12, (short) flags);
        memory.writeShort(d + 14, (short) next);
    }

    public void writeDescriptor(int index, long address, long length, int flags, int next) {
        writeDescriptor(descriptorTable, index, address, length, flags, next);
    }

    /** Builds a chain of direct descriptors from the next free table entries and makes it available. */
    public int addChain(Buffer... buffers) {
        int head = nextDescriptor;
        for (int i = 0; i < buffers.length; i++) {
            int index = (head + i) % size;
            boolean last = i == buffers.length - 1;
            Buffer b = buffers[i];
            writeDescriptor(index, b.address(), b.length(), (b.writable() ? F_WRITE : 0) | (last ? 0 : F_NEXT),
                    (index + 1) % size);
        }
        nextDescriptor = (head + buffers.length) % size;
        makeAvailable(head);
        return head;
    }

    /** Builds an indirect table at {@code table} and a single INDIRECT descriptor pointing to it; makes it available. */
    public int addIndirectChain(long table, Buffer... buffers) {
        for (int i = 0; i < buffers.length; i++) {
            boolean last = i == buffers.length - 1;
            Buffer b = buffers[i];
            writeDescriptor(table, i, b.address(), b.length(), (b.writable() ? F_WRITE : 0) | (last ? 0 : F_NEXT), i + 1);
        }
        int head = nextDescriptor;
        writeDescriptor(head, table, 16L * buffers.length, F_INDIRECT, 0);
        nextDescriptor = (head + 1) % size;
        makeAvailable(head);
        return head;
    }

    /** Puts {@code head} in the next avail ring slot and publishes the new avail idx. */
    public void makeAvailable(int head) {
        memory.writeShort(availRing + 4 + 2L * (availIdx % size), (short) head);
        availIdx = (availIdx + 1) & 0xffff;
        memory.writeShort(availRing + 2, (short) availIdx);
    }

    /** Sets avail idx directly (hostile tests). */
    public void setAvailIdx(int idx) {
        availIdx = idx & 0xffff;
        memory.writeShort(availRing + 2, (short) idx);
    }

    public void setAvailFlags(int flags) {
        memory.writeShort(availRing, (short) flags);
    }

    /** used_event, the trailing field of the avail ring (§2.7.10). */
    public void setUsedEvent(int value) {
        memory.writeShort(availRing + 4 + 2L * size, (short) value);
    }

    /** avail_event, the trailing field of the used ring (§2.7.10). */
    public int availEvent() {
        return memory.readShort(usedRing + 4 + 8L * size) & 0xffff;
    }

    public int usedIdx() {
        return memory.readShort(usedRing + 2) & 0xffff;
    }

    public int usedId(int n) {
        return memory.readInt(usedRing + 4 + 8L * (n % size));
    }

    public int usedLength(int n) {
        return memory.readInt(usedRing + 4 + 8L * (n % size) + 4);
    }
}
