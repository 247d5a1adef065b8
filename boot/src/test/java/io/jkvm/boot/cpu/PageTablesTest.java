package io.jkvm.boot.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jkvm.memory.GuestMemory;
import org.junit.jupiter.api.Test;

class PageTablesTest {

    /** Walks the tables as the MMU does for a 2 MiB page (SDM §4.5.4); -1 when not mapped. */
    private static long translate(GuestMemory m, long cr3, long linear) {
        long pml4e = m.readLong(cr3 + 8 * ((linear >>> 39) & 0x1ff));
        if ((pml4e & 1) == 0) return -1;
        long pdpte = m.readLong((pml4e & 0xf_ffff_ffff_f000L) + 8 * ((linear >>> 30) & 0x1ff));
        if ((pdpte & 1) == 0) return -1;
        long pde = m.readLong((pdpte & 0xf_ffff_ffff_f000L) + 8 * ((linear >>> 21) & 0x1ff));
        if ((pde & 1) == 0) return -1;
        assertEquals(0b1000_0011, pde & 0xff, "present, writable, 2 MiB page");
        return (pde & 0xf_ffff_ffe0_0000L) | (linear & 0x1f_ffff);
    }

    @Test
    void identityMapsTheRequestedGibibytes() {
        try (GuestMemory m = GuestMemory.allocate(0x100000)) {
            m.fill(0, 0x100000, (byte) 0xff);
            PageTables t = new PageTables(0x9000, 2);
            t.writeTo(m);
            assertEquals(0x9000, t.cr3());
            assertEquals(4 * PageTables.PAGE_SIZE, t.size());
            for (long a : new long[] {0, 0x1234, 0x20_0000, 0x3fff_ffffL, 0x4000_0000L, 0x7fff_fff8L})
                assertEquals(a, translate(m, t.cr3(), a), Long.toHexString(a));
            assertEquals(-1, translate(m, t.cr3(), 0x8000_0000L));
            assertEquals(-1, translate(m, t.cr3(), 1L << 39));
            assertEquals(0xffffffffffffffffL, m.readLong(0x9000 + t.size()), "wrote past the tables");
        }
    }

    @Test
    void validatesGeometry() {
        assertThrows(IllegalArgumentException.class, () -> new PageTables(0x9001, 1));
        assertThrows(IllegalArgumentException.class, () -> new PageTables(0x9000, 0));
        assertThrows(IllegalArgumentException.class, () -> new PageTables(0x9000, 513));
        try (GuestMemory m = GuestMemory.allocate(0x2000)) {
            assertThrows(RuntimeException.class, () -> new PageTables(0, 1).writeTo(m));
        }
    }
}
