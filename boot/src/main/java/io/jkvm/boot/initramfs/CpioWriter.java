package io.jkvm.boot.initramfs;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a cpio archive in the "newc" format the Linux initramfs unpacker reads
 * (Documentation/driver-api/early-userspace/buffer-format.rst): per entry a 110-byte ASCII header
 * "070701" + 13 eight-digit hex fields, the NUL-terminated name, padding to 4 bytes, the data,
 * padding to 4 bytes; the archive ends with the entry "TRAILER!!!".
 *
 * <p>Entries are owned by root (uid/gid 0) with mtime 0, so equal input gives equal bytes. Names are
 * stored without a leading '/'. Each entry gets its own inode number, but for the names of one
 * {@link #hardLinkedFile}. The writer does not check that parent directories were written first; the
 * kernel needs them to be.
 */
public final class CpioWriter implements Closeable {
    /** The newc magic (buffer-format.rst: c_magic "070701", no checksums). */
    static final String MAGIC = "070701";
    /** The name of the entry that ends an archive. */
    static final String TRAILER = "TRAILER!!!";
    /** Header length: 6 magic bytes + 13 fields of 8 hex digits. */
    static final int HEADER_LENGTH = 6 + 13 * 8;
    /** Header+name and data are each padded to a multiple of 4 bytes. */
    private static final int ALIGNMENT = 4;
    private static final long MAX_FIELD = 0xFFFF_FFFFL;
    private static final int PERMISSION_MASK = 0_7777;
    private static final byte[] ZEROS = new byte[ALIGNMENT];

    private final OutputStream out;
    private final byte[] copyBuffer = new byte[64 * 1024];
    private long written;
    private int nextInode = 1;
    private boolean finished;

    public CpioWriter(OutputStream out) {
        this.out = out;
    }

    /** Adds a directory with the given permission bits (e.g. 0755). */
    public void directory(String path, int permissions) throws IOException {
        header(path, FileType.DIRECTORY, permissions, 0, 2, 0, 0);
    }

    /** Adds a regular file with the given content. */
    public void file(String path, int permissions, byte[] content) throws IOException {
        header(path, FileType.REGULAR, permissions, content.length, 1, 0, 0);
        write(content, content.length);
        pad();
    }

    /** Adds a regular file whose content is copied from {@code source}. */
    public void file(String path, int permissions, Path source) throws IOException {
        hardLinkedFile(List.of(path), permissions, source);
    }

    /**
     * Adds one regular file under several names (hard links): entries with the same inode number and a link
     * count of {@code paths.size()}; the content, copied from {@code source}, goes with the last name, the
     * others have size 0. That is GNU cpio's layout, and the kernel's unpacker links each later name to the
     * file the first one created and writes the data it carries into it (init/initramfs.c, maybe_link).
     */
    public void hardLinkedFile(List<String> paths, int permissions, Path source) throws IOException {
        if (paths.isEmpty()) throw new IllegalArgumentException("a file needs a name");
        long size = Files.size(source);
        int inode = nextInode++;
        for (int i = 0; i < paths.size() - 1; i++)
            header(paths.get(i), inode, FileType.REGULAR, permissions, 0, paths.size(), 0, 0);
        header(paths.get(paths.size() - 1), inode, FileType.REGULAR, permissions, size, paths.size(), 0, 0);
        long copied = 0;
        try (InputStream in = Files.newInputStream(source)) {
            while (copied < size) {
                int n = in.read(copyBuffer, 0, (int) Math.min(copyBuffer.length, size - copied));
                if (n < 0) throw new IOException(source + " shrank while being archived");
                write(copyBuffer, n);
                copied += n;
            }
        }
        pad();
    }

    /** Adds a symbolic link; its data is the target path (buffer-format.rst, symlinks). */
    public void symlink(String path, String target) throws IOException {
        byte[] bytes = target.getBytes(StandardCharsets.UTF_8);
        if (bytes.length == 0) throw new IllegalArgumentException("empty symlink target for " + path);
        header(path, FileType.SYMLINK, 0_777, bytes.length, 1, 0, 0);
        write(bytes, bytes.length);
        pad();
    }

    /** Adds a character device node (e.g. /dev/console: 5, 1). */
    public void characterDevice(String path, int permissions, long major, long minor) throws IOException {
        header(path, FileType.CHARACTER_DEVICE, permissions, 0, 1, major, minor);
    }

    /** Adds a block device node. */
    public void blockDevice(String path, int permissions, long major, long minor) throws IOException {
        header(path, FileType.BLOCK_DEVICE, permissions, 0, 1, major, minor);
    }

    /** Adds a named pipe. */
    public void fifo(String path, int permissions) throws IOException {
        header(path, FileType.FIFO, permissions, 0, 1, 0, 0);
    }

    /** Bytes written so far. */
    public long size() {
        return written;
    }

    /** Writes the trailer entry; no entry may follow. Called by {@link #close} if not yet done. */
    public void finish() throws IOException {
        if (finished) return;
        writeHeader(TRAILER, 0, 0, 1, 0, 0, 0, 0);
        finished = true;
        out.flush();
    }

    /** Finishes the archive and closes the underlying stream. */
    @Override
    public void close() throws IOException {
        try {
            finish();
        } finally {
            out.close();
        }
    }

    private void header(String path, FileType type, int permissions, long size, int links,
                        long rdevMajor, long rdevMinor) throws IOException {
        header(path, nextInode++, type, permissions, size, links, rdevMajor, rdevMinor);
    }

    private void header(String path, int inode, FileType type, int permissions, long size, int links,
                        long rdevMajor, long rdevMinor) throws IOException {
        if (finished) throw new IllegalStateException("archive already finished");
        if ((permissions & ~PERMISSION_MASK) != 0) {
            throw new IllegalArgumentException("permissions 0" + Integer.toOctalString(permissions)
                    + " of " + path + " have bits outside 07777");
        }
        writeHeader(entryName(path), inode, type.modeBits() | permissions, links, size, rdevMajor, rdevMinor, 0);
    }

    private void writeHeader(String name, long inode, long mode, long links, long size,
                             long rdevMajor, long rdevMinor, long mtime) throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        // buffer-format.rst field order: c_ino c_mode c_uid c_gid c_nlink c_mtime c_filesize
        // c_maj c_min c_rmaj c_rmin c_namesize (including the NUL) c_chksum
        long[] fields = {inode, mode, 0, 0, links, mtime, size, 0, 0, rdevMajor, rdevMinor,
                nameBytes.length + 1, 0};
        StringBuilder h = new StringBuilder(HEADER_LENGTH).append(MAGIC);
        for (long field : fields) {
            if (field < 0 || field > MAX_FIELD) {
                throw new IllegalArgumentException("cpio field value " + field + " of " + name
                        + " does not fit 8 hex digits");
            }
            h.append(String.format("%08X", field));
        }
        byte[] headerBytes = h.toString().getBytes(StandardCharsets.US_ASCII);
        write(headerBytes, headerBytes.length);
        write(nameBytes, nameBytes.length);
        write(ZEROS, 1); // the name's NUL
        pad();
    }

    private static String entryName(String path) {
        String name = path;
        while (name.startsWith("/")) name = name.substring(1);
        if (name.isEmpty() || name.indexOf('\0') >= 0 || name.equals(TRAILER)) {
            throw new IllegalArgumentException("invalid cpio entry name: '" + path + "'");
        }
        return name;
    }

    private void write(byte[] bytes, int length) throws IOException {
        out.write(bytes, 0, length);
        written += length;
    }

    private void pad() throws IOException {
        int padding = (int) (-written & (ALIGNMENT - 1));
        write(ZEROS, padding);
    }
}
