package io.jkvm.io;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The host's libc with faults on demand, for tests of what a disk does when the host fails it:
 * {@link #failNextFdatasync} makes one fdatasync fail (Linux reports a writeback error once per file, so
 * the next one may return 0 although pages were lost); {@link #fallocateErrno} makes every fallocate fail,
 * e.g. with EOPNOTSUPP as on a file system that cannot punch holes.
 */
public final class FaultyFileSyscalls implements FileSyscalls {
    private final AtomicInteger nextFdatasyncErrno = new AtomicInteger();
    /** When non-zero, every fallocate fails with this errno. */
    public volatile int fallocateErrno;

    public void failNextFdatasync(int errno) {
        nextFdatasyncErrno.set(errno);
    }

    @Override
    public int fdatasync(int fd) {
        int errno = nextFdatasyncErrno.getAndSet(0);
        return errno != 0 ? -errno : HOST.fdatasync(fd);
    }

    @Override
    public int fallocate(int fd, int mode, long offset, long length) {
        int errno = fallocateErrno;
        return errno != 0 ? -errno : HOST.fallocate(fd, mode, offset, length);
    }

    @Override public long preadv(int fd, long iov, int iovcnt, long offset) { return HOST.preadv(fd, iov, iovcnt, offset); }
    @Override public long pwritev(int fd, long iov, int iovcnt, long offset) { return HOST.pwritev(fd, iov, iovcnt, offset); }
    @Override public long pwrite(int fd, long buf, long count, long offset) { return HOST.pwrite(fd, buf, count, offset); }
    @Override public int fstat(int fd, long statbuf) { return HOST.fstat(fd, statbuf); }
}
