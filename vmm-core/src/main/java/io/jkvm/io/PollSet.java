package io.jkvm.io;

import io.jkvm.kvm.sys.LibC;
import io.jkvm.kvm.sys.Native;
import io.jkvm.kvm.sys.NativeException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A reusable poll(2) set: an array of {@code struct pollfd {int fd; short events; short revents;}} in native
 * memory, so that waiting on several file descriptors allocates nothing. One thread uses a set at a time.
 */
public final class PollSet {
    /** sizeof(struct pollfd): fd at 0, events at 4, revents at 6. */
    private static final int POLLFD_SIZE = 8;

    private final ByteBuffer entries;
    private final long address;
    private final int capacity;

    public PollSet(int capacity) {
        this.capacity = capacity;
        this.entries = ByteBuffer.allocateDirect(capacity * POLLFD_SIZE).order(ByteOrder.nativeOrder());
        this.address = Native.address(entries);
    }

    /** Sets entry {@code i} to wait for {@code events} on {@code fd}. */
    public void set(int i, int fd, short events) {
        int at = java.util.Objects.checkIndex(i, capacity) * POLLFD_SIZE;
        entries.putInt(at, fd).putShort(at + 4, events).putShort(at + 6, (short) 0);
    }

    /** Blocks until one of the first {@code count} entries is ready (a signal's EINTR is retried). */
    public void await(int count) {
        java.util.Objects.checkFromIndexSize(0, count, capacity);
        while (LibC.INSTANCE.poll(address, count, -1) < 0) {
            int errno = Native.errno();
            if (errno != Native.EINTR) throw new NativeException("poll", errno);
        }
    }

    /** The events the last {@link #await} found on entry {@code i} (POLLERR, POLLHUP and POLLNVAL included). */
    public short ready(int i) {
        return entries.getShort(java.util.Objects.checkIndex(i, capacity) * POLLFD_SIZE + 6);
    }
}
