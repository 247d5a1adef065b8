package io.jkvm.boot.loader;

import io.jkvm.memory.GuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.BiFunction;

/**
 * A kernel or initrd file opened for positional reads: small parts into the heap (headers), large parts
 * straight into guest RAM. Every failure becomes the caller's {@link BootException} naming the file.
 */
final class ImageFile implements AutoCloseable {
    /** Chunk for copies into guest memory: bounds the size of one ByteBuffer view. */
    private static final int COPY_CHUNK = 16 << 20;

    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final BiFunction<Path, String, BootException> error;

    private ImageFile(Path path, FileChannel channel, long size, BiFunction<Path, String, BootException> error) {
        this.path = path;
        this.channel = channel;
        this.size = size;
        this.error = error;
    }

    /** Opens the kernel image; problems are {@link KernelImageException}s. */
    static ImageFile openKernel(Path path) {
        return open(path, "kernel image", KernelImageException::new);
    }

    /** Opens the initrd; problems are {@link BootConfigException}s. */
    static ImageFile openInitrd(Path path) {
        return open(path, "initrd", (p, problem) -> new BootConfigException(p + ": " + problem));
    }

    private static ImageFile open(Path path, String what, BiFunction<Path, String, BootException> error) {
        if (!Files.exists(path)) throw error.apply(path, what + " not found");
        if (!Files.isRegularFile(path)) throw error.apply(path, what + " is not a regular file");
        try {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
            return new ImageFile(path, channel, channel.size(), error);
        } catch (NoSuchFileException e) {
            throw error.apply(path, what + " not found");
        } catch (IOException e) {
            throw error.apply(path, "cannot read " + what + ": " + e.getMessage());
        }
    }

    Path path() {
        return path;
    }

    long size() {
        return size;
    }

    /** A problem with this file, as the caller's exception type. */
    BootException error(String problem) {
        return error.apply(path, problem);
    }

    /** {@code length} bytes at {@code offset} as a little-endian buffer; a short file is "truncated". */
    ByteBuffer read(long offset, int length) {
        requireInFile(offset, length);
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        fill(buffer, offset);
        return buffer.flip();
    }

    /** Copies {@code length} bytes at file {@code offset} to guest RAM at {@code gpa}. */
    void copyTo(GuestMemory memory, long gpa, long offset, long length) {
        requireInFile(offset, length);
        memory.hostAddress(gpa, length); // bounds-check the whole destination before writing any of it
        for (long done = 0; done < length; done += COPY_CHUNK) {
            int n = (int) Math.min(COPY_CHUNK, length - done);
            fill(memory.view(gpa + done, n), offset + done);
        }
    }

    private void requireInFile(long offset, long length) {
        if (offset < 0 || length < 0 || offset > size || length > size - offset)
            throw error(String.format("truncated: needs %d bytes at offset %#x, file has %d bytes", length, offset, size));
    }

    private void fill(ByteBuffer buffer, long offset) {
        try {
            long position = offset;
            while (buffer.hasRemaining()) {
                int n = channel.read(buffer, position);
                if (n < 0) throw error("truncated: file shrank while reading at offset " + position);
                position += n;
            }
        } catch (IOException e) {
            throw error("read failed: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // read-only channel: nothing was buffered that a failed close could lose
        }
    }
}
