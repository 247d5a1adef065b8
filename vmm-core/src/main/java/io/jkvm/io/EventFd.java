package io.jkvm.io;

import io.jkvm.kvm.sys.LibC;
import io.jkvm.kvm.sys.Native;
import io.jkvm.kvm.sys.NativeException;
import io.jkvm.kvm.sys.RawMemory;
import java.nio.ByteBuffer;

/**
 * eventfd(2): a 64-bit counter the kernel can signal without userspace (KVM ioeventfd: a guest's
 * notify write increments it) or consume without userspace (KVM irqfd: a write injects an interrupt).
 * Any thread may {@link #signal}; one thread at a time may {@link #await}. Neither allocates.
 */
public final class EventFd implements AutoCloseable {
    private final int fd;
    private final ByteBuffer cells = ByteBuffer.allocateDirect(16);
    private final long writeCell = Native.address(cells);
    private final long readCell = writeCell + 8;
    private volatile boolean closed;

    public EventFd() {
        int r = LibC.INSTANCE.eventfd(0, Native.EFD_CLOEXEC);
        if (r < 0) throw NativeException.last("eventfd");
        this.fd = r;
    }

    public int fd() {
        return fd;
    }

    /** Adds one to the counter, waking a reader (or, as an irqfd, raising the interrupt). */
    public void signal() {
        synchronized (cells) {
            RawMemory.putLong(writeCell, 1L);
            if (LibC.INSTANCE.write(fd, writeCell, 8) != 8) throw NativeException.last("write(eventfd)");
        }
    }

    /** Blocks until the counter is non-zero, then returns and clears it. */
    public long await() {
        while (true) {
            if (LibC.INSTANCE.read(fd, readCell, 8) == 8) return RawMemory.getLong(readCell);
            int errno = Native.errno();
            if (errno != Native.EINTR) throw new NativeException("read(eventfd)", errno);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        LibC.INSTANCE.close(fd);
    }
}
