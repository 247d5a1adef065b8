package io.jkvm.io;

import io.jkvm.kvm.sys.LibC;
import io.jkvm.kvm.sys.Native;
import io.jkvm.kvm.sys.NativeException;
import io.jkvm.memory.GuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A disk image file for positional I/O straight between the file and guest RAM: pread(2)/pwrite(2)
 * with the host address of the guest buffer, so no byte passes through the Java heap. The file is
 * flock(2)ed (exclusive for read-write, shared for read-only) so that two VMs cannot write one image.
 */
public final class RawFile implements AutoCloseable {
    private final Path path;
    private final int fd;
    private final boolean readOnly;
    private boolean closed;

    private RawFile(Path path, int fd, boolean readOnly) {
        this.path = path;
        this.fd = fd;
        this.readOnly = readOnly;
    }

    /** Opens and locks {@code path}; throws IOException with a one-line reason on failure. */
    public static RawFile open(Path path, boolean readOnly) throws IOException {
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
        return new RawFile(path, fd, readOnly);
    }

    public Path path() {
        return path;
    }

    public boolean readOnly() {
        return readOnly;
    }

    public long size() throws IOException {
        return Files.size(path);
    }

    /** Reads {@code length} bytes at {@code fileOffset} into guest RAM at {@code gpa}. Short reads past EOF fill zeros. */
    public void readInto(GuestMemory memory, long gpa, int length, long fileOffset) throws IOException {
        long done = transfer(PREAD, memory.hostAddress(gpa, length), length, fileOffset);
        if (done < length) memory.fill(gpa + done, length - done, (byte) 0);
    }

    /** Writes {@code length} bytes of guest RAM at {@code gpa} to {@code fileOffset}. */
    public void writeFrom(GuestMemory memory, long gpa, int length, long fileOffset) throws IOException {
        if (readOnly) throw new IOException(path + ": read-only");
        if (transfer(PWRITE, memory.hostAddress(gpa, length), length, fileOffset) < length)
            throw new IOException(path + ": pwrite wrote nothing (disk full?)");
    }

    /** pread(2) or pwrite(2): both take (fd, buffer address, count, offset). */
    private interface PositionalIo {
        long call(int fd, long address, long count, long offset);
    }

    private static final PositionalIo PREAD = LibC.INSTANCE::pread;
    private static final PositionalIo PWRITE = LibC.INSTANCE::pwrite;

    /** Repeats {@code io} until {@code length} bytes moved or end of file; returns the bytes moved. */
    private long transfer(PositionalIo io, long host, int length, long fileOffset) throws IOException {
        long done = 0;
        while (done < length) {
            long n = io.call(fd, host + done, length - done, fileOffset + done);
            if (n < 0) {
                int errno = Native.errno();
                if (errno == Native.EINTR) continue;
                throw new IOException(path + ": " + (io == PREAD ? "pread" : "pwrite") + ": " + Native.strerror(errno));
            }
            if (n == 0) break;
            done += n;
        }
        return done;
    }

    /** fdatasync(2): the data the guest wrote is on stable storage. */
    public void flush() throws IOException {
        if (LibC.INSTANCE.fdatasync(fd) != 0) throw new IOException(path + ": fdatasync: " + Native.strerror(Native.errno()));
    }

    /** Deallocates {@code [offset, offset+length)} (reads back as zeros); the file size is unchanged. */
    public void punchHole(long offset, long length) throws IOException {
        fallocate(Native.FALLOC_FL_PUNCH_HOLE | Native.FALLOC_FL_KEEP_SIZE, offset, length);
    }

    /**
     * Zeroes {@code [offset, offset+length)}, keeping the blocks allocated: FALLOC_FL_ZERO_RANGE, or where
     * the file system lacks it (tmpfs, for one) zeros written with pwrite.
     */
    public void zeroRange(long offset, long length) throws IOException {
        if (fallocateErrno(Native.FALLOC_FL_ZERO_RANGE | Native.FALLOC_FL_KEEP_SIZE, offset, length) != Native.EOPNOTSUPP) return;
        for (long done = 0; done < length; ) {
            int chunk = (int) Math.min(ZEROS.capacity(), length - done);
            if (transfer(PWRITE, ZEROS_ADDRESS, chunk, offset + done) < chunk)
                throw new IOException(path + ": pwrite wrote nothing (disk full?)");
            done += chunk;
        }
    }

    /** A page-multiple of zero bytes, the source of {@link #zeroRange}'s fallback writes (never written to). */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 * 1024);
    private static final long ZEROS_ADDRESS = Native.address(ZEROS);

    private void fallocate(int mode, long offset, long length) throws IOException {
        if (fallocateErrno(mode, offset, length) != 0)
            throw new IOException(path + ": fallocate: " + Native.strerror(Native.EOPNOTSUPP));
    }

    /** fallocate(2); returns 0, or EOPNOTSUPP for the caller to fall back; other errors throw. */
    private int fallocateErrno(int mode, long offset, long length) throws IOException {
        if (readOnly) throw new IOException(path + ": read-only");
        if (LibC.INSTANCE.fallocate(fd, mode, offset, length) == 0) return 0;
        int errno = Native.errno();
        if (errno == Native.EOPNOTSUPP) return errno;
        throw new IOException(path + ": fallocate: " + Native.strerror(errno));
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        LibC.INSTANCE.close(fd);
    }
}
