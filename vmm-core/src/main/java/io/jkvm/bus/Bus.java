package io.jkvm.bus;

import java.util.Arrays;

/**
 * An address space (port I/O or MMIO) of non-overlapping device ranges. The vCPU exit path calls
 * {@link #read}/{@link #write}; a lookup is a binary search over a sorted array and allocates nothing.
 * Accesses no device claims read as all-ones (what an empty ISA/PCI bus returns) and writes vanish;
 * both are counted.
 */
public final class Bus {
    /** A device's range on this bus: {@code [base, base+length)}. */
    public record Range(long base, long length, BusDevice device) {
        /** The device's name with its base, for a bus of many alike devices: {@code virtio-blk@0xd0000000}. */
        public String nameAtBase() {
            return String.format("%s@%#x", device.name(), base);
        }
    }

    private final String name;
    private volatile Range[] entries = new Range[0];
    private long unclaimedReads;
    private long unclaimedWrites;

    public Bus(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** Adds {@code device} at {@code [base, base+length)}; rejects an empty range or any overlap. */
    public synchronized void register(long base, long length, BusDevice device) {
        if (length <= 0 || base + length < base)
            throw new IllegalArgumentException(String.format("%s: bad range [%#x, +%#x)", name, base, length));
        for (Range e : entries) {
            if (base < e.base + e.length && e.base < base + length)
                throw new IllegalArgumentException(String.format(
                        "%s: [%#x, +%#x) overlaps [%#x, +%#x) of %s", name, base, length, e.base, e.length,
                        e.device.getClass().getSimpleName()));
        }
        Range[] next = Arrays.copyOf(entries, entries.length + 1);
        next[entries.length] = new Range(base, length, device);
        Arrays.sort(next, (a, b) -> Long.compareUnsigned(a.base, b.base));
        entries = next;
    }

    /** The range that holds {@code address}, or null. */
    public Range find(long address) {
        Range[] es = entries;
        int lo = 0, hi = es.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Range e = es[mid];
            if (Long.compareUnsigned(address, e.base) < 0) hi = mid - 1;
            else if (Long.compareUnsigned(address - e.base, e.length) >= 0) lo = mid + 1;
            else return e;
        }
        return null;
    }

    /** The value a {@code size}-byte read at {@code address} returns. */
    public long read(long address, int size) {
        Range e = find(address);
        if (e == null) {
            unclaimedReads++;
            return size >= 8 ? -1L : (1L << (size * 8)) - 1;
        }
        return e.device.read(address - e.base, size);
    }

    public void write(long address, int size, long value) {
        Range e = find(address);
        if (e == null) {
            unclaimedWrites++;
            return;
        }
        e.device.write(address - e.base, size, value);
    }

    public long unclaimedReads() {
        return unclaimedReads;
    }

    public long unclaimedWrites() {
        return unclaimedWrites;
    }
}
