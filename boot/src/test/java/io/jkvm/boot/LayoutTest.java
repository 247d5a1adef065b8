package io.jkvm.boot;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.boot.loader.BootConfigException;
import io.jkvm.boot.loader.BootParams;
import io.jkvm.boot.loader.PvhStartInfo;
import io.jkvm.boot.mptable.MpTable;
import io.jkvm.memory.GuestMemory;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import io.jkvm.boot.acpi.VirtioMmioWindow;
import org.junit.jupiter.api.Test;

class LayoutTest {
    private static final long MIB = 1 << 20, GIB = 1L << 30;

    @Test
    void ramBelowTheHoleIsOneRange() {
        assertEquals(List.of(new GuestMemory.Range(0, 256 * MIB)), Layout.ramRanges(256 * MIB));
        assertEquals(List.of(new GuestMemory.Range(0, 3 * GIB)), Layout.ramRanges(3 * GIB));
    }

    @Test
    void ramAboveThreeGibContinuesAtFourGib() {
        assertEquals(List.of(new GuestMemory.Range(0, 3 * GIB), new GuestMemory.Range(4 * GIB, GIB + 4096)),
                Layout.ramRanges(4 * GIB + 4096));
    }

    @Test
    void rejectsTooSmallAndUnalignedSizes() {
        assertEquals("memory size 16 MiB is below the minimum of 32 MiB",
                assertThrows(BootConfigException.class, () -> Layout.ramRanges(16 * MIB)).getMessage());
        assertThrows(BootConfigException.class, () -> Layout.ramRanges(Layout.MIN_MEMORY - 4096));
        assertThrows(BootConfigException.class, () -> Layout.ramRanges(64 * MIB + 100));
        assertThrows(BootConfigException.class, () -> Layout.ramRanges(Long.MAX_VALUE & ~0xfffL));
        Layout.ramRanges(Layout.MIN_MEMORY);
    }

    private record Area(String name, long start, long end) {}

    @Test
    void lowMemoryAreasDoNotOverlapAndSitWhereTheyMust() {
        List<Area> areas = new ArrayList<>(List.of(
                new Area("GDT", Layout.GDT, Layout.GDT + 6 * 8),
                new Area("IDT", Layout.IDT, Layout.IDT + 8),
                new Area("PVH start_info", Layout.PVH_START_INFO, Layout.PVH_START_INFO + PvhStartInfo.SIZE),
                new Area("zero page", Layout.ZERO_PAGE, Layout.ZERO_PAGE + BootParams.SIZE),
                new Area("stack", Layout.BOOT_STACK_POINTER - 0x800, Layout.BOOT_STACK_POINTER),
                new Area("page tables", Layout.PML4, Layout.PAGE_TABLES_END),
                new Area("cmdline", Layout.CMDLINE, Layout.CMDLINE + Layout.CMDLINE_MAX_SIZE),
                new Area("MP floating pointer", Layout.MP_FLOATING_POINTER, Layout.MP_FLOATING_POINTER + 16),
                new Area("MP configuration table", Layout.MP_CONFIG_TABLE,
                        Layout.MP_CONFIG_TABLE + MpTable.configTableLength(MpTable.MAX_CPUS)),
                new Area("RSDP", Layout.ACPI_RSDP, Layout.ACPI_RSDP + 36),
                new Area("ACPI tables", Layout.ACPI_TABLES_START, Layout.ACPI_TABLES_END)));
        areas.sort(Comparator.comparingLong(Area::start));
        for (int i = 1; i < areas.size(); i++)
            assertTrue(areas.get(i).start() >= areas.get(i - 1).end(), areas.get(i - 1) + " overlaps " + areas.get(i));
        assertTrue(Layout.PML4 < Layout.PDPT && Layout.PDPT < Layout.PD && Layout.PD < Layout.PAGE_TABLES_END);
        assertEquals(0, Layout.BOOT_STACK_POINTER % 16);
        assertEquals(0, Layout.ACPI_RSDP % 16);
        assertTrue(Layout.ACPI_RSDP >= 0xe0000 && Layout.ACPI_RSDP < 0x100000, "in the RSDP scan area");
        assertTrue(Layout.CMDLINE + Layout.CMDLINE_MAX_SIZE <= Layout.EBDA_START);
        assertTrue(Layout.MP_FLOATING_POINTER >= Layout.EBDA_START && Layout.MP_FLOATING_POINTER + 16 <= Layout.EBDA_START + 1024,
                "in the first KiB of the EBDA");
        assertTrue(Layout.MP_CONFIG_TABLE >= Layout.VGA_START, "not RAM");
        assertEquals(Layout.ACPI_TABLES_END, Layout.KERNEL_START);
    }

    @Test
    void mmioWindowsLieInTheHoleClearOfApicsAndKvmPages() {
        for (int i = 0; i < Layout.VIRTIO_MMIO_MAX_DEVICES; i++) {
            VirtioMmioWindow w = Layout.virtioMmio(i);
            assertTrue(w.base() >= Layout.MMIO_HOLE_START && w.base() + w.size() <= Layout.IOAPIC_BASE);
            assertTrue(w.gsi() > Layout.COM1_IRQ && w.gsi() < 24);
            assertTrue(w.gsi() != 8 && w.gsi() != 12, "RTC and PS/2 mouse IRQs stay free");
        }
        assertEquals(new VirtioMmioWindow(0xd0001000L, 0x1000, 6), Layout.virtioMmio(1));
        assertEquals(9, Layout.virtioMmio(3).gsi());
        assertThrows(BootConfigException.class, () -> Layout.virtioMmio(Layout.VIRTIO_MMIO_MAX_DEVICES));
        assertThrows(BootConfigException.class, () -> Layout.virtioMmio(-1));
        assertEquals(Layout.KVM_IDENTITY_MAP + 0x1000, Layout.KVM_TSS);
        assertTrue(Layout.LAPIC_BASE + 0x1000 <= Layout.KVM_IDENTITY_MAP);
        assertTrue(Layout.KVM_TSS + 3 * 0x1000 <= Layout.MMIO_HOLE_END);
    }
}
