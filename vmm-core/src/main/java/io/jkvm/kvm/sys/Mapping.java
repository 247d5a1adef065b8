package io.jkvm.kvm.sys;

/** One mmap(2) region and its munmap: guest RAM, or a vCPU's struct kvm_run. */
public final class Mapping implements AutoCloseable {
    private final long address;
    private final long size;
    private boolean closed;

    private Mapping(long size, int flags, int fd, long offset, String what) {
        if (size <= 0) throw new IllegalArgumentException("mapping size must be positive: " + size);
        jnr.ffi.Pointer p = LibC.INSTANCE.mmap(null, size, Native.PROT_READ | Native.PROT_WRITE, flags, fd, offset);
        long addr = p == null ? Native.MAP_FAILED : p.address();
        if (addr == Native.MAP_FAILED) throw NativeException.last("mmap(" + what + ", " + size + " bytes)");
        this.address = addr;
        this.size = size;
    }

    /**
     * Anonymous private memory: the host side of guest RAM. MAP_NORESERVE so a large guest costs only the
     * pages it touches; MADV_DONTFORK so a forked helper process never shares guest memory.
     */
    public static Mapping anonymous(long size) {
        Mapping m = new Mapping(size, Native.MAP_PRIVATE | Native.MAP_ANONYMOUS | Native.MAP_NORESERVE, -1, 0, "anonymous");
        LibC.INSTANCE.madvise(m.address, size, Native.MADV_DONTFORK);
        return m;
    }

    /**
     * A private copy-on-write mapping of {@code size} bytes of file {@code fd} from {@code offset} (page-aligned):
     * guest RAM restored from a snapshot. Pages are read from the file on first touch and writes stay in this
     * process, so mapping costs the same for any size. The fd may be closed afterwards. MADV_DONTFORK as above.
     */
    public static Mapping privateFile(int fd, long offset, long size) {
        Mapping m = new Mapping(size, Native.MAP_PRIVATE | Native.MAP_NORESERVE, fd, offset, "fd " + fd + " at " + offset);
        LibC.INSTANCE.madvise(m.address, size, Native.MADV_DONTFORK);
        return m;
    }

    /** A shared read-write mapping of {@code fd} from offset 0, e.g. a vCPU's struct kvm_run. */
    public static Mapping shared(int fd, long size) {
        return new Mapping(size, Native.MAP_SHARED, fd, 0, "fd " + fd);
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
