package io.jkvm.memory;

import io.jkvm.kvm.sys.LibC;
import io.jkvm.kvm.sys.Mapping;
import io.jkvm.kvm.sys.Native;
import io.jkvm.kvm.sys.NativeException;
import io.jkvm.kvm.sys.RawMemory;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

/**
 * Guest RAM: anonymous host mappings placed at guest-physical addresses, possibly with holes and above
 * 4 GiB. This is the one place where guest-controlled addresses are bounds-checked: every access names a
 * guest-physical range, and a range that is not wholly inside one region throws
 * {@link GuestMemoryException} before any host memory is touched. Accessors allocate nothing.
 * <p>
 * A snapshot saves it to one raw file ({@link #saveTo}): the regions one after the other in address order,
 * each at a page-aligned offset, zero pages left as holes. {@link #mapPrivate} maps such a file back.
 */
public final class GuestMemory implements AutoCloseable {
    private static final int PAGE = 4096;
    /** The most bytes one buffer view covers while saving (a ByteBuffer is int-indexed). */
    private static final int SAVE_CHUNK = 1 << 30;

    private final GuestRegion[] regions;
    private final Mapping[] mappings;

    private GuestMemory(GuestRegion[] regions, Mapping[] mappings) {
        this.regions = regions;
        this.mappings = mappings;
    }

    /** A requested RAM range: guest-physical start and size, both page-aligned. */
    public record Range(long guestAddress, long size) {}

    /** Maps anonymous memory for each range. Ranges must be page-aligned and must not overlap. */
    public static GuestMemory allocate(List<Range> ranges) {
        return map(sorted(ranges), r -> Mapping.anonymous(r.size()));
    }

    /**
     * Guest RAM restored from {@code file}, a file {@link #saveTo} wrote for the same {@code ranges}: each
     * region a private copy-on-write mapping of the file at its offset ({@link Mapping#privateFile}), so
     * pages load on first touch, guest writes never reach the file, and restoring takes the same time for
     * any RAM size. The file must be exactly as large as the ranges together.
     */
    public static GuestMemory mapPrivate(Path file, List<Range> ranges) throws IOException {
        List<Range> sorted = sorted(ranges);
        long expected = sorted.stream().mapToLong(Range::size).sum();
        long actual = Files.size(file);
        if (actual != expected)
            throw new IOException(file + " holds " + actual + " bytes of guest memory; the memory layout needs " + expected);
        int fd = LibC.INSTANCE.open(file.toString(), Native.O_RDONLY | Native.O_CLOEXEC, 0);
        if (fd < 0) throw new IOException("cannot open " + file + ": " + Native.strerror(Native.errno()));
        try {
            long[] offset = {0};
            return map(sorted, r -> {
                Mapping m = Mapping.privateFile(fd, offset[0], r.size());
                offset[0] += r.size();
                return m;
            });
        } catch (NativeException e) {
            throw new IOException("cannot map " + file + ": " + e.getMessage(), e);
        } finally {
            LibC.INSTANCE.close(fd); // the mappings keep the file
        }
    }

    /** The ranges in address order, checked: non-empty, page-aligned, not overlapping. */
    private static List<Range> sorted(List<Range> ranges) {
        List<Range> sorted = new ArrayList<>(ranges);
        sorted.sort(Comparator.comparingLong(Range::guestAddress));
        long previousEnd = 0;
        for (Range r : sorted) {
            if (r.size() <= 0 || (r.guestAddress() & 0xfff) != 0 || (r.size() & 0xfff) != 0)
                throw new IllegalArgumentException("RAM range must be non-empty and 4 KiB aligned: " + describe(r));
            if (r.guestAddress() < previousEnd || r.guestAddress() + r.size() < r.guestAddress())
                throw new IllegalArgumentException("RAM ranges overlap or wrap: " + describe(r));
            previousEnd = r.guestAddress() + r.size();
        }
        return sorted;
    }

    private static GuestMemory map(List<Range> sorted, Function<Range, Mapping> mapper) {
        GuestRegion[] regions = new GuestRegion[sorted.size()];
        Mapping[] mappings = new Mapping[sorted.size()];
        try {
            for (int i = 0; i < regions.length; i++) {
                Range r = sorted.get(i);
                mappings[i] = mapper.apply(r);
                regions[i] = new GuestRegion(r.guestAddress(), r.size(), mappings[i].address());
            }
        } catch (RuntimeException e) {
            for (Mapping m : mappings) if (m != null) m.close();
            throw e;
        }
        return new GuestMemory(regions, mappings);
    }

    /** One region of {@code size} bytes at guest-physical 0. */
    public static GuestMemory allocate(long size) {
        return allocate(List.of(new Range(0, size)));
    }

    private static String describe(Range r) {
        return String.format("[%#x, +%#x)", r.guestAddress(), r.size());
    }

    public List<GuestRegion> regions() {
        return List.of(regions);
    }

    /** Total RAM in bytes. */
    public long size() {
        return Arrays.stream(regions).mapToLong(GuestRegion::size).sum();
    }

    /** Whether {@code [gpa, gpa+length)} lies wholly inside one RAM region. */
    public boolean contains(long gpa, long length) {
        if (length < 0) return false;
        for (GuestRegion r : regions) if (r.contains(gpa, length)) return true;
        return false;
    }

    /**
     * The host address of {@code [gpa, gpa+length)}, for zero-copy I/O (preadv/pwritev straight into
     * guest RAM). Throws unless the whole range is inside one region.
     */
    public long hostAddress(long gpa, long length) {
        if (length >= 0) {
            for (GuestRegion r : regions) {
                if (r.contains(gpa, length)) return r.hostAddress() + (gpa - r.guestAddress());
            }
        }
        throw new GuestMemoryException(String.format(
                "guest access [%#x, +%#x) is outside guest RAM", gpa, length));
    }

    public byte readByte(long gpa) { return RawMemory.getByte(hostAddress(gpa, 1)); }
    public short readShort(long gpa) { return RawMemory.getShort(hostAddress(gpa, 2)); }
    public int readInt(long gpa) { return RawMemory.getInt(hostAddress(gpa, 4)); }
    public long readLong(long gpa) { return RawMemory.getLong(hostAddress(gpa, 8)); }
    public void writeByte(long gpa, byte v) { RawMemory.putByte(hostAddress(gpa, 1), v); }
    public void writeShort(long gpa, short v) { RawMemory.putShort(hostAddress(gpa, 2), v); }
    public void writeInt(long gpa, int v) { RawMemory.putInt(hostAddress(gpa, 4), v); }
    public void writeLong(long gpa, long v) { RawMemory.putLong(hostAddress(gpa, 8), v); }

    public void read(long gpa, byte[] dst, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, dst.length);
        RawMemory.get(hostAddress(gpa, length), dst, offset, length);
    }

    public byte[] read(long gpa, int length) {
        byte[] out = new byte[length];
        read(gpa, out, 0, length);
        return out;
    }

    public void write(long gpa, byte[] src, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, src.length);
        RawMemory.put(hostAddress(gpa, length), src, offset, length);
    }

    public void write(long gpa, byte[] src) {
        write(gpa, src, 0, src.length);
    }

    public void fill(long gpa, long length, byte value) {
        RawMemory.fill(hostAddress(gpa, length), length, value);
    }

    /** A little-endian buffer over {@code [gpa, gpa+length)} (for loaders; allocates a view object). */
    public ByteBuffer view(long gpa, int length) {
        return Native.view(hostAddress(gpa, length), length);
    }

    /**
     * Writes all of guest RAM to {@code file} for {@link #mapPrivate}: region after region in address order,
     * straight from the mapping (positional writes from a buffer over guest memory, no copy on the heap),
     * pages of zeros skipped and left as holes. The file is written under a temporary name, synced, then
     * renamed into place, so {@code file} is either the old file or the whole new one. Pause the vCPUs first.
     */
    public void saveTo(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (RandomAccessFile raf = new RandomAccessFile(tmp.toFile(), "rw")) {
                raf.setLength(0);
                raf.setLength(size()); // all holes; only the pages written below take space
                FileChannel ch = raf.getChannel();
                long fileOffset = 0;
                for (GuestRegion r : regions) {
                    for (long done = 0; done < r.size(); done += SAVE_CHUNK) {
                        int length = (int) Math.min(SAVE_CHUNK, r.size() - done);
                        writeNonZeroPages(ch, Native.view(r.hostAddress() + done, length), fileOffset + done);
                    }
                    fileOffset += r.size();
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        try (FileChannel dir = FileChannel.open(file.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            dir.force(true); // the rename itself is durable
        }
    }

    /** Writes the runs of pages of {@code memory} that are not all zero, at {@code fileOffset} on. */
    private static void writeNonZeroPages(FileChannel ch, ByteBuffer memory, long fileOffset) throws IOException {
        ByteBuffer zero = ByteBuffer.allocateDirect(PAGE);
        int runStart = -1;
        for (int page = 0; page <= memory.capacity(); page += PAGE) {
            boolean data = page < memory.capacity() && memory.slice(page, PAGE).mismatch(zero) != -1;
            if (data && runStart < 0) runStart = page;
            if (!data && runStart >= 0) {
                ByteBuffer run = memory.slice(runStart, page - runStart);
                while (run.hasRemaining()) ch.write(run, fileOffset + runStart + run.position());
                runStart = -1;
            }
        }
    }

    @Override
    public void close() {
        for (int i = mappings.length - 1; i >= 0; i--) mappings[i].close();
    }
}
