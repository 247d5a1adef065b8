package io.jkvm.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The VM state file of a snapshot (the guest memory is a file of its own): a header, then the body a
 * {@link StateWriter} built. All values little-endian, as in the body (docs/snapshot-format.md):
 * <pre>
 *  offset  size  field
 *  0       8     magic "JKVMSNAP"
 *  8       4     format version, {@value #FORMAT_VERSION}
 *  12      2     n, the length of the jkvm version string (at most {@value #MAX_WRITER_BYTES})
 *  14      n     the version of the jkvm that wrote the file, UTF-8 (for messages only)
 *  14+n    8     body length in bytes
 *  22+n    4     CRC32C (Castagnoli) of every byte before this field, then of the body
 *  26+n    ...   the body
 * </pre>
 * The checksum covers the header too, so that any changed byte, the writer's version included, is found.
 * {@link #read} checks every field, and the body length against the file's size before it allocates
 * anything, so a corrupt, truncated, foreign or hostile file is one {@link SnapshotFormatException} naming
 * the file, never a half-read state.
 */
public final class StateFile {
    public static final byte[] MAGIC = "JKVMSNAP".getBytes(StandardCharsets.US_ASCII);
    /** Raised whenever a jkvm release changes the layout of the header or of any section (see the doc). */
    public static final int FORMAT_VERSION = 1;
    /** The longest jkvm version string a file may carry. */
    public static final int MAX_WRITER_BYTES = 256;
    /** The largest body a Java byte array holds (a few bytes below Integer.MAX_VALUE, as the JDK's own buffers allow). */
    static final long MAX_BODY = Integer.MAX_VALUE - 8;
    /** magic, format version, writer length. */
    private static final int FIXED_HEAD = 8 + 4 + 2;
    /** body length, CRC32C. */
    private static final int FIXED_TAIL = 8 + 4;

    /** What {@link #read} returns: the body, and which jkvm wrote it. */
    public record Contents(String writtenBy, byte[] body) {}

    private StateFile() {}

    /**
     * Writes {@code body} to {@code file} as a whole or not at all: into a temporary file in the same
     * directory, flushed to the disk (fsync), then renamed over {@code file} (rename(2) is atomic), and the
     * directory flushed so that the rename survives a crash too.
     *
     * @param writtenBy this jkvm's version
     */
    public static void write(Path file, String writtenBy, byte[] body) throws IOException {
        byte[] writer = writtenBy.getBytes(StandardCharsets.UTF_8);
        if (writer.length > MAX_WRITER_BYTES) writer = Arrays.copyOf(writer, MAX_WRITER_BYTES);
        ByteBuffer header = ByteBuffer.allocate(FIXED_HEAD + writer.length + FIXED_TAIL).order(ByteOrder.LITTLE_ENDIAN);
        header.put(MAGIC).putInt(FORMAT_VERSION).putShort((short) writer.length).put(writer).putLong(body.length);
        CRC32C crc = new CRC32C();
        crc.update(header.array(), 0, header.position());
        crc.update(body);
        header.putInt((int) crc.getValue()).flip();

        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path temp = null;
        try {
            temp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp"); // mode 0600: a VM's state is private
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                writeFully(out, header);
                writeFully(out, ByteBuffer.wrap(body));
                out.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            temp = null;
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
        } catch (IOException e) {
            throw new IOException("cannot write the snapshot state " + file + ": " + describe(e), e);
        } finally {
            if (temp != null) Files.deleteIfExists(temp);
        }
    }

    /** An I/O error in words: NIO's file exceptions carry only the path in their message. */
    private static String describe(IOException e) {
        if (e instanceof NoSuchFileException) return "no such file or directory";
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof AtomicMoveNotSupportedException) return "the file system cannot rename it atomically";
        return e.getMessage();
    }

    /**
     * The body of the state file {@code file}, checked: magic, format version, header, length against the
     * file's size, checksum.
     *
     * @throws SnapshotFormatException not a jkvm state file, another format version, truncated, too long, corrupt
     * @throws IOException             the file cannot be opened or read (the message names it)
     */
    public static Contents read(Path file) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = in.size();
            if (size < FIXED_HEAD) throw bad(file, "is " + size + " bytes, too short for a jkvm snapshot state file");
            ByteBuffer head = readFully(in, FIXED_HEAD);
            byte[] magic = new byte[MAGIC.length];
            head.get(magic);
            if (!Arrays.equals(magic, MAGIC)) throw bad(file, "is not a jkvm snapshot state file (no JKVMSNAP magic)");
            int version = head.getInt();
            if (version != FORMAT_VERSION) {
                throw bad(file, "has snapshot format version " + Integer.toUnsignedString(version) + "; this jkvm reads "
                        + FORMAT_VERSION);
            }
            int writerLength = Short.toUnsignedInt(head.getShort());
            if (writerLength > MAX_WRITER_BYTES)
                throw bad(file, "names its writer in " + writerLength + " bytes, more than " + MAX_WRITER_BYTES + ": corrupt");
            long headerSize = FIXED_HEAD + writerLength + FIXED_TAIL;
            if (size < headerSize) throw bad(file, "is truncated: " + size + " bytes, its header alone is " + headerSize);
            ByteBuffer rest = readFully(in, writerLength + FIXED_TAIL);
            byte[] writer = new byte[writerLength];
            rest.get(writer);
            long bodyLength = rest.getLong();
            int expectedCrc = rest.getInt();
            if (bodyLength != size - headerSize) {
                throw bad(file, "holds " + (size - headerSize) + " bytes of state where its header says "
                        + Long.toUnsignedString(bodyLength) + (bodyLength > size - headerSize ? ": truncated" : ": corrupt"));
            }
            if (bodyLength > MAX_BODY) throw bad(file, "has a state of " + bodyLength + " bytes, more than jkvm reads");
            byte[] body = readFully(in, (int) bodyLength).array();
            CRC32C crc = new CRC32C();
            crc.update(head.array());
            crc.update(rest.array(), 0, rest.capacity() - 4);
            crc.update(body);
            if ((int) crc.getValue() != expectedCrc) {
                throw bad(file, String.format("is corrupt: its CRC32C is %08x, the header says %08x", (int) crc.getValue(), expectedCrc));
            }
            return new Contents(new String(writer, StandardCharsets.UTF_8), body);
        } catch (IOException e) {
            throw new IOException("cannot read the snapshot state " + file + ": " + describe(e), e);
        }
    }

    private static SnapshotFormatException bad(Path file, String what) {
        return new SnapshotFormatException("snapshot state " + file + " " + what);
    }

    private static ByteBuffer readFully(FileChannel in, int n) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        while (buf.hasRemaining()) {
            if (in.read(buf) < 0) throw new IOException("the file ended early (it changed while being read)");
        }
        return buf.flip();
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) out.write(buf);
    }
}
