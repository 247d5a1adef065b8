package io.jkvm.io;

import io.jkvm.kvm.sys.LibC;
import io.jkvm.kvm.sys.Native;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A disk image file for positional I/O straight between the file and guest RAM: preadv(2)/pwritev(2)
 * with the host addresses of the guest buffers ({@link IoVector}), so no byte passes through the Java
 * heap and a request of many buffers takes one system call. The file is
 * flock(2)ed (exclusive for read-write, shared for read-only) so that two VMs cannot write one image.
 * Every call on the open descriptor goes through a {@link FileSyscalls}, the seam for fault injection.
 */
public final class RawFile implements AutoCloseable {
    private final Path path;
    private final int fd;
    private final boolean readOnly;
    private final FileSyscalls calls;
    /** The errno of the first failed fdatasync, 0 if none: from then on writes and flushes fail. */
    private volatile int writebackErrno;
    private boolean closed;

    private RawFile(Path path, int fd, boolean readOnly, FileSyscalls calls) {
        this.path = path;
        this.fd = fd;
        this.readOnly = readOnly;
        this.calls = calls;
    }

    /** Opens and locks {@code path}; throws IOException with a one-line reason on failure. */
    public static RawFile open(Path path, boolean readOnly) throws IOException {
        return open(path, readOnly, FileSyscalls.HOST);
    }

    /** {@link #open(Path, boolean)} with the descriptor's I/O going through {@code calls}. */
    public static RawFile open(Path path, boolean readOnly, FileSyscalls calls) throws IOException {
        if (!Files.exists(path)) throw new NoSuchFileException(path.toString(), null, "disk image not found");
        if (!Files.isRegularFile(path)) throw new IOException(path + ": not a regular file");
        int flags = (readOnly ? Native.O_RDONLY : Native.O_RDWR) | Native.O_CLOEXEC;
        int fd = LibC.INSTANCE.open(path.toString(), flags, 0);
        if (fd < 0) throw new IOException(path + ": " + Native.strerror(Native.errno()));
        int lock = (readOnly ? Native.LOCK_SH : Native.LOCK_EX) | Native.LOCK_NB;
        if (LibC.INSTANCE.flock(fd, lock) != 0) {
            int errno = Native.errno();
            LibC.INSTANCE.close(fd);
            throw new IOException(path + ": " + (errno == Native.EWOULDBLOCK
                    ? "image is in use by another process (locked)" : Native.strerror(errno)));
        }
        return new RawFile(path, fd, readOnly, calls);
    }

    public Path path() {
        return path;
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** The size of the open file, from fstat(2) on its descriptor (the path may name another file by now). */
    public long size() throws IOException {
        ByteBuffer stat = ByteBuffer.allocateDirect(Native.STAT_SIZE).order(ByteOrder.nativeOrder());
        int r = calls.fstat(fd, Native.address(stat));
        if (r < 0) throw failure("fstat", -r);
        return stat.getLong(Native.STAT_ST_SIZE);
    }

    /**
     * Reads the file from {@code fileOffset} into the buffers of {@code buffers}, all of them, with preadv(2)
     * (one call unless the kernel moves less). What lies beyond the end of the file reads as zeros.
     */
    public void readInto(IoVector buffers, long fileOffset) throws IOException {
        transfer(true, buffers, fileOffset);
        buffers.zeroRemaining();
    }

    /** Writes the buffers of {@code buffers}, all of them, to the file from {@code fileOffset}, with pwritev(2). */
    public void writeFrom(IoVector buffers, long fileOffset) throws IOException {
        requireWritable();
        transfer(false, buffers, fileOffset);
        if (buffers.remainingBytes() > 0) throw new IOException(path + ": pwritev wrote nothing (disk full?)");
    }

    /** Repeats preadv or pwritev until every buffer is done or the file ends; {@code buffers} keeps what is left. */
    private void transfer(boolean read, IoVector buffers, long fileOffset) throws IOException {
        long offset = fileOffset;
        while (buffers.remainingBytes() > 0) {
            long n = read ? calls.preadv(fd, buffers.remainingAddress(), buffers.remainingEntries(), offset)
                    : calls.pwritev(fd, buffers.remainingAddress(), buffers.remainingEntries(), offset);
            if (n == -Native.EINTR) continue;
            if (n < 0) throw failure(read ? "preadv" : "pwritev", (int) -n);
            if (n == 0) return;
            buffers.consume(n);
            offset += n;
        }
    }

    /** An IOException naming the file, the call and its errno. */
    private IOException failure(String call, int errno) {
        return new IOException(path + ": " + call + ": " + Native.strerror(errno));
    }

    /**
     * fdatasync(2): the data the guest wrote is on stable storage. Linux reports a writeback error to one
     * fdatasync only, and a later one may return 0 although the pages were lost; so the first failure is
     * kept, and every later flush and write fails, as in QEMU's file driver, until {@link #clearWritebackFailure}.
     */
    public void flush() throws IOException {
        requireNoWritebackFailure();
        int r = calls.fdatasync(fd);
        if (r < 0) {
            writebackErrno = -r;
            throw failure("fdatasync", -r);
        }
    }

    /** Forgets a failed flush: whoever wrote since knows of the failure (the guest reset its disk). */
    public void clearWritebackFailure() {
        writebackErrno = 0;
    }

    private void requireWritable() throws IOException {
        if (readOnly) throw new IOException(path + ": read-only");
        requireNoWritebackFailure();
    }

    private void requireNoWritebackFailure() throws IOException {
        int errno = writebackErrno;
        if (errno != 0) throw new IOException(path + ": an earlier fdatasync failed (" + Native.strerror(errno)
                + "); written data may be lost, so writes and flushes fail until the disk is reset");
    }

    /**
     * Deallocates {@code [offset, offset+length)} (it reads back as zeros), the file size unchanged; false,
     * with the range untouched, where the file system or kernel cannot punch holes.
     */
    public boolean punchHole(long offset, long length) throws IOException {
        return fallocate(Native.FALLOC_FL_PUNCH_HOLE | Native.FALLOC_FL_KEEP_SIZE, offset, length);
    }

    /**
     * Zeroes {@code [offset, offset+length)}, keeping the blocks allocated: FALLOC_FL_ZERO_RANGE, or where
     * the file system lacks it (tmpfs, for one) zeros written with pwrite.
     */
    public void zeroRange(long offset, long length) throws IOException {
        if (fallocate(Native.FALLOC_FL_ZERO_RANGE | Native.FALLOC_FL_KEEP_SIZE, offset, length)) return;
        for (long done = 0; done < length; ) {
            long n = calls.pwrite(fd, ZEROS_ADDRESS, Math.min(ZEROS.capacity(), length - done), offset + done);
            if (n == -Native.EINTR) continue;
            if (n < 0) throw failure("pwrite", (int) -n);
            if (n == 0) throw new IOException(path + ": pwrite wrote nothing (disk full?)");
            done += n;
        }
    }

    /** A page-multiple of zero bytes, the source of {@link #zeroRange}'s fallback writes (never written to). */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 * 1024);
    private static final long ZEROS_ADDRESS = Native.address(ZEROS);

    /**
     * fallocate(2) with {@code mode}: true when done, false when the file system or kernel lacks the mode
     * (EOPNOTSUPP, ENOSYS) for the caller to fall back; any other error throws with its own errno.
     */
    private boolean fallocate(int mode, long offset, long length) throws IOException {
        requireWritable();
        int r = calls.fallocate(fd, mode, offset, length);
        if (r == -Native.EOPNOTSUPP || r == -Native.ENOSYS) return false;
        if (r < 0) throw failure("fallocate", -r);
        return true;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        LibC.INSTANCE.close(fd);
    }
}
