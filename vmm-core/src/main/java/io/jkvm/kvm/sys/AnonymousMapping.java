package io.jkvm.kvm.sys;

/**
 * An anonymous private mmap(2): the host side of guest RAM. MAP_NORESERVE so a large guest costs only
 * the pages it touches; MADV_DONTFORK so a forked helper process never shares guest memory.
 */
public final class AnonymousMapping implements AutoCloseable {
    private final long address;
    private final long size;
    private boolean closed;

    public AnonymousMapping(long size) {
        if (size <= 0) throw new IllegalArgumentException("mapping size must be positive: " + size);
        jnr.ffi.Pointer p = LibC.INSTANCE.mmap(null, size, Native.PROT_READ | Native.PROT_WRITE,
                Native.MAP_PRIVATE | Native.MAP_ANONYMOUS | Native.MAP_NORESERVE, -1, 0);
        long addr = p == null ? Native.MAP_FAILED : p.address();
        if (addr == Native.MAP_FAILED) throw NativeException.last("mmap(" + size + " bytes)");
        LibC.INSTANCE.madvise(addr, size, Native.MADV_DONTFORK);
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
