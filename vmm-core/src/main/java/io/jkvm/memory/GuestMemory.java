package io.jkvm.memory;

import io.jkvm.kvm.sys.Mapping;
import io.jkvm.kvm.sys.Native;
import io.jkvm.kvm.sys.RawMemory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Guest RAM: anonymous host mappings placed at guest-physical addresses, possibly with holes and above
 * 4 GiB. This is the one place where guest-controlled addresses are bounds-checked: every access names a
 * guest-physical range, and a range that is not wholly inside one region throws
 * {@link GuestMemoryException} before any host memory is touched. Accessors allocate nothing.
 */
public final class GuestMemory implements AutoCloseable {
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
        GuestRegion[] regions = new GuestRegion[sorted.size()];
        Mapping[] mappings = new Mapping[sorted.size()];
        try {
            for (int i = 0; i < regions.length; i++) {
                Range r = sorted.get(i);
                mappings[i] = Mapping.anonymous(r.size());
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

    @Override
    public void close() {
        for (int i = mappings.length - 1; i >= 0; i--) mappings[i].close();
    }
}
