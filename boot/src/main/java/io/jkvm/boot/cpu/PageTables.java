package io.jkvm.boot.cpu;

import io.jkvm.memory.GuestMemory;

/**
 * Identity-mapping 4-level page tables with 2 MiB pages (Intel SDM Vol. 3A §4.5, Figures 4-9/4-10):
 * one PML4, one PDPT and one page directory per GiB mapped, in consecutive 4 KiB pages from
 * {@code address}. 2 MiB pages need no CPUID check (PSE is architectural in long mode); 1 GiB pages would.
 *
 * @param address   guest-physical address of the PML4 (the CR3 value), 4 KiB aligned
 * @param gibibytes how many GiB from guest-physical 0 are identity-mapped (1..512)
 */
public record PageTables(long address, int gibibytes) {
    public static final int PAGE_SIZE = 4096;
    private static final int ENTRIES = 512;
    private static final long PRESENT = 0b1;
    private static final long WRITABLE = 0b10;
    /** PS: the page-directory entry maps a 2 MiB page (SDM Table 4-18). */
    private static final long LARGE_PAGE = 0b1000_0000;
    private static final long TWO_MIB = 1L << 21;
    private static final long ONE_GIB = 1L << 30;

    public PageTables {
        if ((address & (PAGE_SIZE - 1)) != 0)
            throw new IllegalArgumentException(String.format("page tables at %#x not 4 KiB aligned", address));
        if (gibibytes < 1 || gibibytes > ENTRIES)
            throw new IllegalArgumentException("one PDPT maps 1..512 GiB, not " + gibibytes);
    }

    /** Bytes of guest memory the tables occupy. */
    public long size() {
        return (2L + gibibytes) * PAGE_SIZE;
    }

    /** The value for CR3: the PML4's address (PCD/PWT clear). */
    public long cr3() {
        return address;
    }

    public long pdptAddress() {
        return address + PAGE_SIZE;
    }

    /** The page directory that maps GiB number {@code gib}. */
    public long pageDirectoryAddress(int gib) {
        return address + (2L + gib) * PAGE_SIZE;
    }

    /** Writes the tables into guest memory (all other entries zero, i.e. not present). */
    public void writeTo(GuestMemory memory) {
        memory.fill(address, size(), (byte) 0);
        memory.writeLong(address, pdptAddress() | PRESENT | WRITABLE);
        for (int gib = 0; gib < gibibytes; gib++) {
            long pd = pageDirectoryAddress(gib);
            memory.writeLong(pdptAddress() + 8L * gib, pd | PRESENT | WRITABLE);
            for (int i = 0; i < ENTRIES; i++) {
                long physical = gib * ONE_GIB + i * TWO_MIB;
                memory.writeLong(pd + 8L * i, physical | PRESENT | WRITABLE | LARGE_PAGE);
            }
        }
    }
}
