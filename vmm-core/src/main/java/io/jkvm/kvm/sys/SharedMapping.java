package io.jkvm.kvm.sys;

/** A shared read-write mmap(2) of a file descriptor from offset 0, e.g. a vCPU's struct kvm_run. */
public final class SharedMapping implements AutoCloseable {
    private final long address;
    private final long size;
    private boolean closed;

    public SharedMapping(int fd, long size) {
        if (size <= 0) throw new IllegalArgumentException("mapping size must be positive: " + size);
        jnr.ffi.Pointer p = LibC.INSTANCE.mmap(null, size, Native.PROT_READ | Native.PROT_WRITE,
                Native.MAP_SHARED, fd, 0);
        long addr = p == null ? Native.MAP_FAILED : p.address();
        if (addr == Native.MAP_FAILED) throw NativeException.last("mmap(fd " + fd + ", " + size + " bytes)");
        this.address = addr;
        this.size = size;
    }

    public long address() {
        return address;
    }

    public long size() {
        return size;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (LibC.INSTANCE.munmap(address, size) != 0) throw NativeException.last("munmap");
    }
}
