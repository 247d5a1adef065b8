package io.jkvm.devices.virtio;

import io.jkvm.memory.GuestMemory;

/**
 * One request: the buffers of a descriptor chain (virtio 1.2 §2.7.5), device-readable ones first, then
 * device-writable ones. Each queue owns one instance and refills it for every chain, so parsing allocates
 * nothing. Lengths are unsigned 32-bit values held in {@code long}s.
 *
 * <p>Every non-empty buffer lies wholly inside guest RAM ({@link Virtqueue} returns any other chain unused),
 * so address + length never wraps; the guest may still change the bytes while the device works on them.
 */
public final class DescriptorChain {
    private final long[] addresses;
    private final long[] lengths;
    private int head;
    private int count;
    private int readableCount;
    private long readableBytes;
    private long writableBytes;

    DescriptorChain(int capacity) {
        this.addresses = new long[capacity];
        this.lengths = new long[capacity];
    }

    void reset(int head) {
        this.head = head;
        count = 0;
        readableCount = 0;
        readableBytes = 0;
        writableBytes = 0;
    }

    /** Appends a buffer; false if the chain is full. Readable buffers must come before writable ones (checked by the caller). */
    boolean add(long address, long length, boolean writable) {
        if (count == addresses.length) return false;
        addresses[count] = address;
        lengths[count] = length;
        count++;
        if (writable) {
            writableBytes += length;
        } else {
            readableCount++;
            readableBytes += length;
        }
        return true;
    }

    boolean hasWritable() {
        return count > readableCount;
    }

    /** The descriptor index of the chain's head: what goes into the used ring. */
    public int head() {
        return head;
    }

    /** Number of buffers. */
    public int count() {
        return count;
    }

    /** Buffers {@code [0, readableCount)} are device-readable, the rest device-writable. */
    public int readableCount() {
        return readableCount;
    }

    public long address(int i) {
        return addresses[checkIndex(i)];
    }

    public long length(int i) {
        return lengths[checkIndex(i)];
    }

    public boolean writable(int i) {
        return checkIndex(i) >= readableCount;
    }

    public long readableBytes() {
        return readableBytes;
    }

    public long writableBytes() {
        return writableBytes;
    }

    private int checkIndex(int i) {
        return java.util.Objects.checkIndex(i, count);
    }

    /**
     * Copies {@code length} bytes starting {@code offset} bytes into the device-readable part of the chain
     * into {@code dst}; false if the readable part is shorter.
     */
    public boolean readReadable(GuestMemory memory, long offset, byte[] dst, int length) {
        return copy(memory, false, offset, dst, length);
    }

    /**
     * Copies {@code length} bytes of {@code src} into the device-writable part of the chain, starting
     * {@code offset} bytes into it; false if the writable part is shorter.
     */
    public boolean writeWritable(GuestMemory memory, long offset, byte[] src, int length) {
        return copy(memory, true, offset, src, length);
    }

    private boolean copy(GuestMemory memory, boolean intoWritable, long offset, byte[] buffer, int length) {
        long partBytes = intoWritable ? writableBytes : readableBytes;
        if (offset < 0 || length < 0 || offset + length > partBytes) return false;
        int first = intoWritable ? readableCount : 0;
        int end = intoWritable ? count : readableCount;
        int copied = 0;
        long skip = offset;
        for (int i = first; i < end && copied < length; i++) {
            long len = lengths[i];
            if (skip >= len) {
                skip -= len;
                continue;
            }
            int n = (int) Math.min(len - skip, length - copied);
            if (intoWritable) memory.write(addresses[i] + skip, buffer, copied, n);
            else memory.read(addresses[i] + skip, buffer, copied, n);
            copied += n;
            skip = 0;
        }
        return true;
    }

    /** The guest address of the last device-writable byte (where virtio-blk puts its status), or -1 if none. */
    public long lastWritableByte() {
        for (int i = count - 1; i >= readableCount; i--) {
            if (lengths[i] != 0) return addresses[i] + lengths[i] - 1;
        }
        return -1;
    }
}
