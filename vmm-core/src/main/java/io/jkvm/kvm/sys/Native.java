package io.jkvm.kvm.sys;

import com.kenai.jffi.MemoryIO;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Small helpers over {@link LibC}: errno, error text, native buffers and Linux constants. */
public final class Native {
    private Native() {}

    // <asm-generic/fcntl.h>
    public static final int O_RDONLY = 0, O_RDWR = 02, O_CLOEXEC = 02000000, O_NONBLOCK = 04000;
    // <asm-generic/mman-common.h>
    public static final int PROT_READ = 0x1, PROT_WRITE = 0x2;
    public static final int MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
    public static final long MAP_FAILED = -1L;
    public static final int MADV_DONTFORK = 10;
    // <sys/eventfd.h>
    public static final int EFD_CLOEXEC = O_CLOEXEC, EFD_NONBLOCK = O_NONBLOCK;
    // <sys/file.h>
    public static final int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
    // <linux/falloc.h>
    public static final int FALLOC_FL_KEEP_SIZE = 0x01, FALLOC_FL_PUNCH_HOLE = 0x02, FALLOC_FL_ZERO_RANGE = 0x10;
    // struct stat of x86-64 (<asm/stat.h>): 144 bytes, st_size at byte 48
    public static final int STAT_SIZE = 144, STAT_ST_SIZE = 48;
    // <asm-generic/poll.h>
    public static final short POLLIN = 0x001, POLLOUT = 0x004, POLLERR = 0x008, POLLHUP = 0x010, POLLNVAL = 0x020;
    // <asm-generic/errno-base.h>
    public static final int EINTR = 4, EAGAIN = 11, EACCES = 13, ENOENT = 2, E2BIG = 7, EWOULDBLOCK = EAGAIN, ENOSYS = 38, EOPNOTSUPP = 95,
            EPERM = 1, EBUSY = 16, EINVAL = 22;

    private static final MemoryIO IO = MemoryIO.getInstance();

    /** errno of the last {@link LibC} call made on this thread. */
    public static int errno() {
        return jnr.ffi.Runtime.getSystemRuntime().getLastError();
    }

    public static String strerror(int errno) {
        return LibC.INSTANCE.strerror(errno);
    }

    /** A little-endian direct buffer over {@code length} bytes of native memory at {@code address}. */
    public static ByteBuffer view(long address, int length) {
        return IO.newDirectByteBuffer(address, length).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The native address of a direct buffer's first byte. */
    public static long address(ByteBuffer direct) {
        if (!direct.isDirect()) throw new IllegalArgumentException("not a direct buffer");
        return IO.getDirectBufferAddress(direct);
    }
}
