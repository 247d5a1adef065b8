package io.jkvm.boot.loader;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.boot.Layout;
import io.jkvm.memory.GuestMemory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class E820MapTest {
    private static final long MIB = 1 << 20, GIB = 1L << 30;

    @Test
    void smallMachineHasTwoRamRangesAroundTheLegacyHole() {
        E820Map m = E820Map.forRegions(Layout.ramRanges(128 * MIB));
        assertEquals(List.of(
                new E820Map.Entry(0, 0x9fc00, E820Map.Type.RAM),
                new E820Map.Entry(0x9fc00, 0x100000 - 0x9fc00, E820Map.Type.RESERVED),
                new E820Map.Entry(0x100000, 127 * MIB, E820Map.Type.RAM)), m.entries());
    }

    @Test
    void bigMachineSkipsTheMmioHole() {
        E820Map m = E820Map.forRegions(Layout.ramRanges(5 * GIB));
        assertEquals(4, m.entries().size());
        assertEquals(new E820Map.Entry(0x100000, 3 * GIB - MIB, E820Map.Type.RAM), m.entries().get(2));
        assertEquals(new E820Map.Entry(4 * GIB, 2 * GIB, E820Map.Type.RAM), m.entries().get(3));
        assertFalse(m.isRam(Layout.MMIO_HOLE_START, 1));
        assertFalse(m.isRam(Layout.IOAPIC_BASE, 1));
        assertFalse(m.isRam(Layout.VIRTIO_MMIO_BASE, 4096));
        assertTrue(m.isRam(4 * GIB, 2 * GIB));
        assertFalse(m.isRam(4 * GIB, 2 * GIB + 1));
    }

    @Test
    void tablesAndLegacyAreasAreNeverRam() {
        E820Map m = E820Map.forRegions(Layout.ramRanges(64 * MIB));
        for (long a : new long[] {Layout.MP_FLOATING_POINTER, Layout.MP_CONFIG_TABLE, Layout.VGA_START, Layout.BIOS_ROM_START, Layout.ACPI_RSDP,
                Layout.ACPI_TABLES_START, Layout.ACPI_TABLES_END - 1}) {
            assertFalse(m.isRam(a, 1), Long.toHexString(a));
        }
        assertTrue(m.isRam(Layout.ZERO_PAGE, 4096));
        assertTrue(m.isRam(0, 0x9fc00));
        assertFalse(m.isRam(0, 0x9fc01), "RAM entries are not merged across the hole");
    }

    @Test
    void withReservedCarvesOutOfRam() {
        E820Map m = E820Map.forRegions(Layout.ramRanges(64 * MIB)).withReserved(32 * MIB, 4096, E820Map.Type.ACPI);
        assertEquals(5, m.entries().size());
        assertEquals(new E820Map.Entry(0x100000, 31 * MIB, E820Map.Type.RAM), m.entries().get(2));
        assertEquals(new E820Map.Entry(32 * MIB, 4096, E820Map.Type.ACPI), m.entries().get(3));
        assertEquals(new E820Map.Entry(32 * MIB + 4096, 32 * MIB - 4096, E820Map.Type.RAM), m.entries().get(4));
        assertFalse(m.isRam(32 * MIB, 1));
        // an area straddling the end of RAM trims it
        E820Map t = m.withReserved(64 * MIB - 4096, 8192, E820Map.Type.RESERVED);
        assertEquals(64 * MIB - 4096, t.entries().get(4).end());
    }

    @Test
    void forMemoryMatchesTheRegions() {
        try (GuestMemory mem = GuestMemory.allocate(Layout.ramRanges(64 * MIB))) {
            assertEquals(E820Map.forRegions(Layout.ramRanges(64 * MIB)).entries(), E820Map.forMemory(mem).entries());
        }
    }

    @Test
    void rejectsOverlapsAndTooManyEntries() {
        assertThrows(IllegalArgumentException.class, () -> new E820Map.Entry(0, 0, E820Map.Type.RAM));
        List<GuestMemory.Range> ranges = new ArrayList<>();
        for (int i = 0; i < 130; i++) ranges.add(new GuestMemory.Range(4 * GIB + i * 2 * MIB, MIB));
        assertThrows(BootConfigException.class, () -> E820Map.forRegions(ranges));
        assertThrows(IllegalArgumentException.class, () -> E820Map.forRegions(
                List.of(new GuestMemory.Range(2 * MIB, 2 * MIB), new GuestMemory.Range(3 * MIB, 2 * MIB))));
    }
}
