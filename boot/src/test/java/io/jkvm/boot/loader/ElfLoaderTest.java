package io.jkvm.boot.loader;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.boot.Layout;
import io.jkvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ElfLoaderTest {
    private static final long MIB = 1 << 20;
    private static final long KERNEL_MAP = 0xffff_ffff_8000_0000L; // __START_KERNEL_map
    private static final int EM_X86_64 = 62, EM_AARCH64 = 183;
    @TempDir Path dir;
    private GuestMemory memory;
    private final byte[] text = TestImages.pattern(0x2000, 3);
    private final byte[] data = TestImages.pattern(0x1000, 9);

    @BeforeEach
    void allocate() {
        memory = GuestMemory.allocate(Layout.ramRanges(64 * MIB));
    }

    @AfterEach
    void free() {
        memory.close();
    }

    /** A vmlinux-like image: text at 16 MiB, data + 0x3000 bss at 18 MiB, e_entry physical as in Linux. */
    private Path vmlinux(int machine, long entry, long pvhEntry) throws Exception {
        List<TestImages.Seg> segs = TestImages.segs(
                new TestImages.Seg(0x100_0000, KERNEL_MAP + 0x100_0000, text, text.length),
                new TestImages.Seg(0x120_0000, KERNEL_MAP + 0x120_0000, data, data.length + 0x3000));
        return TestImages.write(dir, "vmlinux", TestImages.elf(machine, entry, segs, pvhEntry));
    }

    @Test
    void loadsSegmentsAtPhysicalAddressesAndZeroesBss() throws Exception {
        memory.fill(0x120_0000, 0x4000, (byte) 0x55); // stale bytes where bss goes
        Path k = vmlinux(EM_X86_64, 0x100_0000, -1);
        LoadedKernel lk = KernelLoader.load(memory, BootRequest.of(k, Optional.empty(), "console=ttyS0"));

        assertArrayEquals(text, memory.read(0x100_0000, text.length));
        assertArrayEquals(data, memory.read(0x120_0000, data.length));
        assertArrayEquals(new byte[0x3000], memory.read(0x120_0000 + data.length, 0x3000));
        assertEquals(LoadedKernel.Format.ELF, lk.format());
        assertEquals(EntryKind.LINUX_64, lk.entryKind(), "no PVH note: 64-bit entry");
        assertEquals(0x100_0000, lk.entryAddress());
        assertEquals(0x100_0000, lk.kernelStart());
        assertEquals(0x120_4000, lk.kernelEnd());
    }

    @Test
    void sixtyFourBitEntryGetsASyntheticZeroPage() throws Exception {
        Path k = vmlinux(EM_X86_64, 0x100_0000, -1);
        Path rd = TestImages.write(dir, "initrd", TestImages.pattern(5000, 2));
        LoadedKernel lk = KernelLoader.load(memory, BootRequest.of(k, Optional.of(rd), "quiet").withAcpiRsdp(Layout.ACPI_RSDP));
        ByteBuffer zp = ByteBuffer.wrap(memory.read(Layout.ZERO_PAGE, BootParams.SIZE)).order(ByteOrder.LITTLE_ENDIAN);

        assertEquals(Layout.ZERO_PAGE, lk.bootInfoAddress());
        assertEquals((short) 0xaa55, zp.getShort(0x1fe));
        assertEquals(0x53726448, zp.getInt(0x202));
        assertEquals((byte) 0xff, zp.get(0x210));
        assertEquals(Layout.CMDLINE, zp.getInt(0x228));
        assertEquals(2047, zp.getInt(0x238));
        assertEquals(Layout.ACPI_RSDP, zp.getLong(0x70));
        LoadedKernel.Placement p = lk.initrd().orElseThrow();
        assertEquals(p.address(), zp.getInt(0x218));
        assertEquals(5000, zp.getInt(0x21c));
        assertEquals(3, zp.get(0x1e8));
        assertArrayEquals("quiet\0".getBytes(), memory.read(Layout.CMDLINE, 6));
    }

    @Test
    void virtualEntryIsTranslatedThroughItsSegment() throws Exception {
        Path k = vmlinux(EM_X86_64, KERNEL_MAP + 0x100_0040, -1);
        assertEquals(0x100_0040, KernelLoader.load(memory, BootRequest.of(k, Optional.empty(), "")).entryAddress());
    }

    @Test
    void pvhNoteSelectsThePvhEntryAndWritesStartInfo() throws Exception {
        Path k = vmlinux(EM_X86_64, 0x100_0000, 0x100_1234);
        byte[] initrd = TestImages.pattern(10_000, 4);
        Path rd = TestImages.write(dir, "initrd", initrd);
        LoadedKernel lk = KernelLoader.load(memory, BootRequest.of(k, Optional.of(rd), "console=hvc0"));

        assertEquals(EntryKind.PVH_32, lk.entryKind());
        assertEquals(0x100_1234, lk.entryAddress());
        assertEquals(Layout.PVH_START_INFO, lk.bootInfoAddress());
        long si = Layout.PVH_START_INFO;
        assertEquals(0x336ec578, memory.readInt(si));
        assertEquals(1, memory.readInt(si + 4), "version 1 (has memmap)");
        assertEquals(1, memory.readInt(si + 12), "nr_modules");
        assertEquals(Layout.CMDLINE, memory.readLong(si + 24));
        assertEquals(0, memory.readLong(si + 32), "no RSDP");
        long mod = memory.readLong(si + 16);
        LoadedKernel.Placement p = lk.initrd().orElseThrow();
        assertEquals(p.address(), memory.readLong(mod));
        assertEquals(initrd.length, memory.readLong(mod + 8));
        assertArrayEquals(initrd, memory.read(p.address(), initrd.length));
        long map = memory.readLong(si + 40);
        assertEquals(lk.e820().entries().size(), memory.readInt(si + 48));
        for (int i = 0; i < lk.e820().entries().size(); i++) {
            E820Map.Entry e = lk.e820().entries().get(i);
            assertEquals(e.address(), memory.readLong(map + 24L * i));
            assertEquals(e.size(), memory.readLong(map + 24L * i + 8));
            assertEquals(e.type().code(), memory.readInt(map + 24L * i + 16));
        }
        assertArrayEquals(new byte[BootParams.SIZE], memory.read(Layout.ZERO_PAGE, BootParams.SIZE), "no zero page for PVH");
    }

    @Test
    void pvhWithoutInitrdHasNoModulesAndPassesTheRsdp() throws Exception {
        Path k = vmlinux(EM_X86_64, 0x100_0000, 0x100_1234);
        LoadedKernel lk = KernelLoader.load(memory, BootRequest.of(k, Optional.empty(), "").withAcpiRsdp(Layout.ACPI_RSDP));
        assertTrue(lk.initrd().isEmpty());
        assertEquals(0, memory.readInt(Layout.PVH_START_INFO + 12), "nr_modules");
        assertEquals(0, memory.readLong(Layout.PVH_START_INFO + 16), "modlist_paddr");
        assertEquals(Layout.ACPI_RSDP, memory.readLong(Layout.PVH_START_INFO + 32));
    }

    @Test
    void sixtyFourBitEntryCanBeForcedDespiteAPvhNote() throws Exception {
        Path k = vmlinux(EM_X86_64, 0x100_0000, 0x100_1234);
        LoadedKernel lk = KernelLoader.load(memory, BootRequest.of(k, Optional.empty(), "").withEntry(EntryKind.LINUX_64));
        assertEquals(EntryKind.LINUX_64, lk.entryKind());
        assertEquals(0x100_0000, lk.entryAddress());
    }

    @Test
    void pvhRequestedWithoutNoteIsAnError() throws Exception {
        Path k = vmlinux(EM_X86_64, 0x100_0000, -1);
        BootException e = assertThrows(KernelImageException.class,
                () -> KernelLoader.load(memory, BootRequest.of(k, Optional.empty(), "").withEntry(EntryKind.PVH_32)));
        assertTrue(e.getMessage().contains("XEN_ELFNOTE_PHYS32_ENTRY"), e.getMessage());
    }

    @Test
    void rejectsNonX86ElfAndBrokenElf() throws Exception {
        Path arm = vmlinux(EM_AARCH64, 0x100_0000, -1);
        assertEquals(arm + ": not an x86-64 kernel: ELF machine 183 (expected 62, x86-64)",
                assertThrows(KernelImageException.class,
                        () -> KernelLoader.load(memory, BootRequest.of(arm, Optional.empty(), ""))).getMessage());

        Path badEntry = vmlinux(EM_X86_64, 0x50_0000, -1);
        assertTrue(assertThrows(KernelImageException.class,
                () -> KernelLoader.load(memory, BootRequest.of(badEntry, Optional.empty(), ""))).getMessage()
                .contains("entry point 0x500000 is outside every PT_LOAD segment"));

        byte[] full = TestImages.elf(EM_X86_64, 0x100_0000, TestImages.segs(
                new TestImages.Seg(0x100_0000, KERNEL_MAP + 0x100_0000, text, text.length)), -1);
        Path cut = TestImages.write(dir, "cut", Arrays.copyOf(full, full.length - 100));
        assertTrue(assertThrows(KernelImageException.class,
                () -> KernelLoader.load(memory, BootRequest.of(cut, Optional.empty(), ""))).getMessage()
                .contains("truncated"));

        Path headerOnly = TestImages.write(dir, "hdr", Arrays.copyOf(full, 20));
        assertTrue(assertThrows(KernelImageException.class,
                () -> KernelLoader.load(memory, BootRequest.of(headerOnly, Optional.empty(), ""))).getMessage()
                .contains("truncated ELF"));

        byte[] low = TestImages.elf(EM_X86_64, 0x1000, TestImages.segs(
                new TestImages.Seg(0x1000, KERNEL_MAP + 0x1000, text, text.length)), -1);
        Path lowFile = TestImages.write(dir, "low", low);
        assertTrue(assertThrows(KernelImageException.class,
                () -> KernelLoader.load(memory, BootRequest.of(lowFile, Optional.empty(), ""))).getMessage()
                .contains("is not in [1 MiB"));
    }

    @Test
    void segmentBeyondGuestRamIsAConfigError() throws Exception {
        byte[] img = TestImages.elf(EM_X86_64, 0x400_0000, TestImages.segs(
                new TestImages.Seg(0x400_0000, KERNEL_MAP + 0x400_0000, text, 2 * MIB)), -1);
        Path k = TestImages.write(dir, "high", img);
        BootException e = assertThrows(BootConfigException.class,
                () -> KernelLoader.load(memory, BootRequest.of(k, Optional.empty(), "")));
        assertTrue(e.getMessage().contains("the kernel needs RAM at [0x4000000, 0x4200000)"), e.getMessage());
    }

    @Test
    void elfCommandLineLimitIs2047() throws Exception {
        Path k = vmlinux(EM_X86_64, 0x100_0000, -1);
        KernelLoader.load(memory, BootRequest.of(k, Optional.empty(), "a".repeat(2047)));
        assertThrows(BootConfigException.class, () -> KernelLoader.load(memory, BootRequest.of(k, Optional.empty(), "a".repeat(2048))));
    }
}
