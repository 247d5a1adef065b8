package io.jkvm.io;

import io.jkvm.kvm.sys.LibC;
import io.jkvm.kvm.sys.Native;

/**
 * The system calls a {@link RawFile} makes on its open descriptor, each returning its result (&gt;= 0) or
 * {@code -errno}. {@link #HOST} makes them; a test passes its own to inject host faults (an fdatasync that
 * fails with EIO, a file system without hole punching) that a real disk rarely produces on demand.
 */
public interface FileSyscalls {
    long preadv(int fd, long iov, int iovcnt, long offset);

    long pwritev(int fd, long iov, int iovcnt, long offset);

    long pwrite(int fd, long buf, long count, long offset);

    int fdatasync(int fd);

    int fallocate(int fd, int mode, long offset, long length);

    /** fstat(2) into the {@link Native#STAT_SIZE}-byte struct stat at {@code statbuf}. */
    int fstat(int fd, long statbuf);

    /** The host's libc. */
    FileSyscalls HOST = new FileSyscalls() {
        @Override public long preadv(int fd, long iov, int iovcnt, long offset) { return result(LibC.INSTANCE.preadv(fd, iov, iovcnt, offset)); }
        @Override public long pwritev(int fd, long iov, int iovcnt, long offset) { return result(LibC.INSTANCE.pwritev(fd, iov, iovcnt, offset)); }
        @Override public long pwrite(int fd, long buf, long count, long offset) { return result(LibC.INSTANCE.pwrite(fd, buf, count, offset)); }
        @Override public int fdatasync(int fd) { return (int) result(LibC.INSTANCE.fdatasync(fd)); }
        @Override public int fallocate(int fd, int mode, long offset, long length) { return (int) result(LibC.INSTANCE.fallocate(fd, mode, offset, length)); }
        @Override public int fstat(int fd, long statbuf) { return (int) result(LibC.INSTANCE.fstat(fd, statbuf)); }

        /** libc's -1-and-errno as {@code -errno}. */
        private static long result(long r) {
            return r < 0 ? -Native.errno() : r;
        }
    };
}
