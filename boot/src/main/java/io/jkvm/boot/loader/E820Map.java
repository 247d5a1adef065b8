package io.jkvm.boot.loader;

import io.jkvm.boot.Layout;
import io.jkvm.memory.GuestMemory;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The BIOS-style physical memory map the kernel receives (zero page e820_table, PVH memmap): sorted,
 * non-overlapping entries. RAM entries come only from guest memory regions and never cover the legacy
 * hole [EBDA, 1 MiB), the ACPI/MP tables, or MMIO. Immutable; {@link #withReserved} returns a new map.
 */
public final class E820Map {
    /** The zero page holds at most 128 entries (E820_MAX_ENTRIES_ZEROPAGE, zero-page.rst 0x2D0). */
    public static final int MAX_ENTRIES = 128;

    /** Address range types (ACPI 6.4 §15 "System Address Map Interfaces", table 15.1). */
    public enum Type {
        RAM(1), RESERVED(2), ACPI(3), NVS(4), UNUSABLE(5);

        private final int code;

        Type(int code) {
            this.code = code;
        }

        /** The numeric type written into the map. */
        public int code() {
            return code;
        }
    }

    /** One range {@code [address, address + size)} of the given type. */
    public record Entry(long address, long size, Type type) {
        public Entry {
            if (size <= 0 || address + size < address)
                throw new IllegalArgumentException(String.format("bad e820 range [%#x, +%#x)", address, size));
        }

        public long end() {
            return address + size;
        }
    }

    private final List<Entry> entries;

    private E820Map(List<Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::address));
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).address() < sorted.get(i - 1).end())
                throw new IllegalArgumentException("overlapping e820 entries " + sorted.get(i - 1) + " and " + sorted.get(i));
        }
        if (sorted.size() > MAX_ENTRIES) throw new BootConfigException("e820 map has " + sorted.size() + " entries, at most 128 fit");
        this.entries = List.copyOf(sorted);
    }

    /**
     * The map of a jkvm machine with this guest memory: each RAM region is RAM, except the legacy hole
     * [{@link Layout#EBDA_START}, 1 MiB) (EBDA with the MP table, VGA, ROM area with RSDP and ACPI
     * tables), which is reserved.
     */
    public static E820Map forMemory(GuestMemory memory) {
        return forRegions(memory.regions().stream()
                .map(r -> new GuestMemory.Range(r.guestAddress(), r.size())).toList());
    }

    /** As {@link #forMemory}, from the RAM ranges (e.g. {@link Layout#ramRanges}). */
    public static E820Map forRegions(List<GuestMemory.Range> ram) {
        List<Entry> entries = new ArrayList<>();
        for (GuestMemory.Range r : ram) entries.add(new Entry(r.guestAddress(), r.size(), Type.RAM));
        return new E820Map(entries).withReserved(Layout.EBDA_START, Layout.KERNEL_START - Layout.EBDA_START, Type.RESERVED);
    }

    /**
     * This map with {@code [address, address + size)} marked {@code type}: the range is cut out of any
     * entry it overlaps (so tables placed in RAM stop being RAM) and added as its own entry.
     */
    public E820Map withReserved(long address, long size, Type type) {
        Entry carved = new Entry(address, size, type);
        List<Entry> result = new ArrayList<>();
        for (Entry e : entries) {
            if (e.end() <= carved.address() || e.address() >= carved.end()) {
                result.add(e);
                continue;
            }
            if (e.address() < carved.address()) result.add(new Entry(e.address(), carved.address() - e.address(), e.type()));
            if (e.end() > carved.end()) result.add(new Entry(carved.end(), e.end() - carved.end(), e.type()));
        }
        result.add(carved);
        return new E820Map(result);
    }

    /** Sorted by address, non-overlapping. */
    public List<Entry> entries() {
        return entries;
    }

    /** Whether every byte of {@code [address, address + size)} is RAM in this map. */
    public boolean isRam(long address, long size) {
        return size >= 0 && entries.stream().anyMatch(e -> e.type() == Type.RAM && address >= e.address()
                && size <= e.size() && address - e.address() <= e.size() - size);
    }
}
