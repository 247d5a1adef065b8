package io.jkvm.io;

import io.jkvm.kvm.sys.Native;
import io.jkvm.kvm.sys.RawMemory;
import io.jkvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A scatter-gather list of guest buffers for one preadv(2)/pwritev(2): an array of
 * {@code struct iovec { void *iov_base; size_t iov_len; }} in native memory. {@link #add} takes each host
 * address from {@link GuestMemory#hostAddress}, so every entry has passed the one guest-memory bounds
 * check. A device keeps one and refills it for every request ({@link #clear}): nothing is allocated on
 * the I/O path.
 *
 * <p>{@link RawFile} moves the data and marks what it moved with {@link #consume}, which drops whole
 * entries and shortens a partly done one, so a short transfer resumes where it stopped.
 */
public final class IoVector {
    /** sizeof(struct iovec) on x86-64: iov_base at 0, iov_len at 8. */
    static final int IOVEC_SIZE = 16;
    /** IOV_MAX (limits.h): the most entries one preadv/pwritev takes. */
    public static final int IOV_MAX = 1024;

    private final ByteBuffer entries;
    private final long address;
    private final int capacity;
    private int first;
    private int count;
    private long remainingBytes;

    public IoVector(int capacity) {
        if (capacity < 1 || capacity > IOV_MAX) throw new IllegalArgumentException("1-" + IOV_MAX + " entries, not " + capacity);
        this.capacity = capacity;
        this.entries = ByteBuffer.allocateDirect(capacity * IOVEC_SIZE).order(ByteOrder.nativeOrder());
        this.address = Native.address(entries);
    }

    /** Empties the list for the next request. */
    public void clear() {
        first = 0;
        count = 0;
        remainingBytes = 0;
    }

    /**
     * Appends guest buffer {@code [gpa, gpa+length)}.
     *
     * @throws io.jkvm.memory.GuestMemoryException if the buffer is not inside guest RAM
     * @throws IllegalStateException if the list is full
     */
    public void add(GuestMemory memory, long gpa, long length) {
        if (count == capacity) throw new IllegalStateException("more than " + capacity + " buffers");
        int at = count * IOVEC_SIZE;
        entries.putLong(at, memory.hostAddress(gpa, length)).putLong(at + 8, length);
        count++;
        remainingBytes += length;
    }

    /** Number of entries added since {@link #clear}. */
    public int count() {
        return count;
    }

    /** The host address of entry {@code i} (a {@link FrameChannel} that is no file descriptor copies through it). */
    public long hostAddress(int i) {
        return entries.getLong(java.util.Objects.checkIndex(i, count) * IOVEC_SIZE);
    }

    public long length(int i) {
        return entries.getLong(java.util.Objects.checkIndex(i, count) * IOVEC_SIZE + 8);
    }

    /** Bytes not yet transferred. */
    public long remainingBytes() {
        return remainingBytes;
    }

    /** Address of the first entry not yet (wholly) transferred: the {@code iov} argument. */
    long remainingAddress() {
        return address + (long) first * IOVEC_SIZE;
    }

    /** Entries not yet (wholly) transferred: the {@code iovcnt} argument. */
    int remainingEntries() {
        return count - first;
    }

    /** Marks the next {@code bytes} bytes as transferred. */
    void consume(long bytes) {
        remainingBytes -= bytes;
        while (bytes > 0) {
            int at = first * IOVEC_SIZE;
            long length = entries.getLong(at + 8);
            if (bytes < length) {
                entries.putLong(at, entries.getLong(at) + bytes).putLong(at + 8, length - bytes);
                return;
            }
            bytes -= length;
            first++;
        }
    }

    /** Zeroes what is left, e.g. the part of a read beyond the end of the file. */
    void zeroRemaining() {
        for (int i = first; i < count; i++) {
            int at = i * IOVEC_SIZE;
            RawMemory.fill(entries.getLong(at), entries.getLong(at + 8), (byte) 0);
        }
        consume(remainingBytes);
    }
}
