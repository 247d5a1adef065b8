package io.jkvm.boot.loader;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.boot.Layout;
import io.jkvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BzImageLoaderTest {
    private static final long MIB = 1 << 20;
    @TempDir Path dir;
    private GuestMemory memory;

    @BeforeEach
    void allocate() {
        memory = GuestMemory.allocate(Layout.ramRanges(64 * MIB));
    }

    @AfterEach
    void free() {
        memory.close();
    }

    private Path image(Consumer<TestImages.BzImageBuilder> change) throws Exception {
        TestImages.BzImageBuilder b = new TestImages.BzImageBuilder();
        change.accept(b);
        return TestImages.write(dir, "bzImage", b.build());
    }

    private ByteBuffer zeroPage() {
        return ByteBuffer.wrap(memory.read(Layout.ZERO_PAGE, BootParams.SIZE)).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void loadsPayloadAtOneMibAndEntersAt0x200() throws Exception {
        byte[] file = new TestImages.BzImageBuilder().build();
        Path kernel = TestImages.write(dir, "bzImage", file);
        LoadedKernel k = KernelLoader.load(memory, BootRequest.of(kernel, Optional.empty(), "console=ttyS0"));

        assertEquals(LoadedKernel.Format.BZIMAGE, k.format());
        assertEquals(EntryKind.LINUX_64, k.entryKind());
        assertEquals(0x100200, k.entryAddress());
        assertEquals(Layout.ZERO_PAGE, k.bootInfoAddress());
        int setup = 4 * 512;
        assertArrayEquals(Arrays.copyOfRange(file, setup, file.length), memory.read(0x100000, file.length - setup));
        // runtime start = max(1 MiB aligned to 2 MiB, pref_address 16 MiB), + init_size 4 MiB
        assertEquals(0x100000, k.kernelStart());
        assertEquals(0x1400000, k.kernelEnd());
        assertTrue(k.initrd().isEmpty());
    }

    @Test
    void zeroPageCarriesTheSetupHeaderAndLoaderFields() throws Exception {
        byte[] file = new TestImages.BzImageBuilder().build();
        Path kernel = TestImages.write(dir, "bzImage", file);
        KernelLoader.load(memory, BootRequest.of(kernel, Optional.empty(), "root=/dev/vda quiet").withAcpiRsdp(Layout.ACPI_RSDP));
        ByteBuffer zp = zeroPage();

        assertEquals(0x53726448, zp.getInt(0x202), "HdrS copied");
        assertEquals((short) 0xaa55, zp.getShort(0x1fe));
        assertEquals(0x020f, zp.getShort(0x206));
        assertEquals(0x7ff, zp.getInt(0x238), "cmdline_size copied");
        assertEquals((byte) 0xff, zp.get(0x210), "type_of_loader");
        assertEquals(BzImage.LOADED_HIGH | BzImage.CAN_USE_HEAP, zp.get(0x211) & 0xff, "loadflags");
        assertEquals(Layout.CMDLINE, zp.getInt(0x228), "cmd_line_ptr");
        assertEquals(0, zp.getInt(0xc8), "ext_cmd_line_ptr");
        assertEquals(Layout.ACPI_RSDP, zp.getLong(0x70), "acpi_rsdp_addr");
        assertEquals(0, zp.getInt(0x218), "no ramdisk");
        assertEquals(0, zp.get(0x26c), "nothing copied past the header end");
        assertArrayEquals("root=/dev/vda quiet\0".getBytes(), memory.read(Layout.CMDLINE, 20));

        // e820: [0, EBDA) RAM, [EBDA, 1 MiB) reserved, [1 MiB, 64 MiB) RAM
        assertEquals(3, zp.get(0x1e8));
        long[][] expected = {{0, 0x9fc00, 1}, {0x9fc00, 0x60400, 2}, {0x100000, 63 * MIB, 1}};
        for (int i = 0; i < expected.length; i++) {
            int at = 0x2d0 + 20 * i;
            assertEquals(expected[i][0], zp.getLong(at), "addr " + i);
            assertEquals(expected[i][1], zp.getLong(at + 8), "size " + i);
            assertEquals(expected[i][2], zp.getInt(at + 16), "type " + i);
        }
    }

    @Test
    void rsdpIsNotWrittenForProtocolsBefore2_14() throws Exception {
        Path kernel = image(b -> b.version = 0x020d);
        KernelLoader.load(memory, BootRequest.of(kernel, Optional.empty(), "").withAcpiRsdp(Layout.ACPI_RSDP));
        assertEquals(0, zeroPage().getLong(0x70));
    }

    @Test
    void setupSectsZeroMeansFour() throws Exception {
        TestImages.BzImageBuilder b = new TestImages.BzImageBuilder();
        b.setupSects = 0;
        byte[] file = b.build();
        Path kernel = TestImages.write(dir, "bzImage", file);
        KernelLoader.load(memory, BootRequest.of(kernel, Optional.empty(), ""));
        assertArrayEquals(Arrays.copyOfRange(file, 5 * 512, 5 * 512 + 64), memory.read(0x100000, 64));
    }

    @Test
    void initrdGoesHighPageAlignedAboveTheKernelArea() throws Exception {
        Path kernel = image(b -> {});
        byte[] rd = TestImages.pattern(3 * 4096 + 123, 5);
        Path initrd = TestImages.write(dir, "initrd", rd);
        LoadedKernel k = KernelLoader.load(memory, BootRequest.of(kernel, Optional.of(initrd), ""));

        LoadedKernel.Placement p = k.initrd().orElseThrow();
        assertEquals(rd.length, p.size());
        assertEquals(0, p.address() % 4096);
        assertTrue(p.end() <= 64 * MIB && p.end() > 64 * MIB - 4096, "as high as possible: " + p);
        assertTrue(p.address() >= k.kernelEnd());
        assertArrayEquals(rd, memory.read(p.address(), rd.length));
        assertEquals(p.address(), Integer.toUnsignedLong(zeroPage().getInt(0x218)));
        assertEquals(rd.length, zeroPage().getInt(0x21c));
    }

    @Test
    void initrdStaysBelowInitrdAddrMax() throws Exception {
        Path kernel = image(b -> b.initrdAddrMax = (int) (48 * MIB - 1));
        Path initrd = TestImages.write(dir, "initrd", TestImages.pattern(8192, 1));
        LoadedKernel k = KernelLoader.load(memory, BootRequest.of(kernel, Optional.of(initrd), ""));
        assertEquals(48 * MIB - 8192, k.initrd().orElseThrow().address());
    }

    @Test
    void initrdBelowTheMmioHoleWhenMemoryExceeds3GiB() throws Exception {
        try (GuestMemory big = GuestMemory.allocate(Layout.ramRanges(4L << 30))) {
            Path kernel = image(b -> {});
            Path initrd = TestImages.write(dir, "initrd", TestImages.pattern(4096, 1));
            LoadedKernel k = KernelLoader.load(big, BootRequest.of(kernel, Optional.of(initrd), ""));
            assertEquals(0x8000_0000L - 4096, k.initrd().orElseThrow().address(), "highest page below initrd_addr_max");
            assertTrue(k.e820().isRam(Layout.HIGH_RAM_START, 1L << 30));
        }
    }

    private static String message(Runnable r) {
        return assertThrows(BootException.class, r::run).getMessage();
    }

    private String loadError(Consumer<TestImages.BzImageBuilder> change) throws Exception {
        Path kernel = image(change);
        return message(() -> KernelLoader.load(memory, BootRequest.of(kernel, Optional.empty(), "")));
    }

    @Test
    void rejectsBadHeadersWithTheProblemAndTheFile() throws Exception {
        assertTrue(loadError(b -> b.version = 0x020b).contains("boot protocol 2.11 is too old"));
        assertTrue(loadError(b -> b.xloadflags = 0).contains("XLF_KERNEL_64"));
        assertTrue(loadError(b -> b.bootFlag = 0x1234).contains("boot_flag"));
        assertTrue(loadError(b -> b.loadflags = 0).contains("LOADED_HIGH"));
        assertTrue(loadError(b -> b.jumpDisplacement = 0x10).contains("setup header end"));
        assertTrue(loadError(b -> b.kernelAlignment = 0x30000).contains("kernel_alignment"));
        String truncated = loadError(b -> b.syssizeExtra = 4096);
        assertTrue(truncated.startsWith(dir.resolve("bzImage") + ": truncated bzImage"), truncated);
    }

    @Test
    void rejectsRandomBytesAndShortFiles() throws Exception {
        byte[] random = new byte[100_000];
        new java.util.Random(42).nextBytes(random);
        Path noise = TestImages.write(dir, "noise", random);
        String m = message(() -> KernelLoader.load(memory, BootRequest.of(noise, Optional.empty(), "")));
        assertEquals(noise + ": not a Linux kernel image: neither ELF nor a bzImage ('HdrS' missing at 0x202)", m);

        Path tiny = TestImages.write(dir, "tiny", new byte[10]);
        assertTrue(message(() -> KernelLoader.load(memory, BootRequest.of(tiny, Optional.empty(), "")))
                .contains("too short"));
        Path empty = TestImages.write(dir, "empty", new byte[0]);
        assertTrue(message(() -> KernelLoader.load(memory, BootRequest.of(empty, Optional.empty(), "")))
                .contains("too short"));
    }

    @Test
    void rejectsMissingFiles() throws Exception {
        Path missing = dir.resolve("nope");
        assertEquals(missing + ": kernel image not found",
                message(() -> KernelLoader.load(memory, BootRequest.of(missing, Optional.empty(), ""))));
        assertEquals(dir + ": kernel image is not a regular file",
                message(() -> KernelLoader.load(memory, BootRequest.of(dir, Optional.empty(), ""))));
        Path kernel = image(b -> {});
        BootException e = assertThrows(BootConfigException.class,
                () -> KernelLoader.load(memory, BootRequest.of(kernel, Optional.of(missing), "")));
        assertEquals(missing + ": initrd not found", e.getMessage());
    }

    @Test
    void rejectsACommandLineLongerThanCmdlineSize() throws Exception {
        Path kernel = image(b -> b.cmdlineSize = 16);
        KernelLoader.load(memory, BootRequest.of(kernel, Optional.empty(), "x".repeat(16)));
        BootException e = assertThrows(BootConfigException.class,
                () -> KernelLoader.load(memory, BootRequest.of(kernel, Optional.empty(), "x".repeat(17))));
        assertEquals("kernel command line is 17 bytes, the kernel accepts at most 16 (cmdline_size)", e.getMessage());
    }

    @Test
    void rejectsAKernelThatNeedsMoreMemory() throws Exception {
        Path kernel = image(b -> b.initSize = (int) (60 * MIB));
        BootException e = assertThrows(BootConfigException.class,
                () -> KernelLoader.load(memory, BootRequest.of(kernel, Optional.empty(), "")));
        assertTrue(e.getMessage().contains("the kernel needs RAM at [0x100000, 0x4c00000)"), e.getMessage());
    }

    @Test
    void rejectsInitrdsThatDoNotFit() throws Exception {
        Path kernel = image(b -> {});
        Path empty = TestImages.write(dir, "empty.img", new byte[0]);
        assertEquals(empty + ": initrd is empty",
                message(() -> KernelLoader.load(memory, BootRequest.of(kernel, Optional.of(empty), ""))));

        // 50 MiB: less than RAM (64 MiB) but more than the room above the kernel (20 MiB .. 64 MiB)
        Path big = dir.resolve("big.img");
        try (var f = new java.io.RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(50 * MIB);
        }
        String m = message(() -> KernelLoader.load(memory, BootRequest.of(kernel, Optional.of(big), "")));
        assertTrue(m.startsWith(big + ": initrd of 50 MiB does not fit in guest RAM between the kernel's end 0x1400000"), m);

        try (var f = new java.io.RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(65 * MIB);
        }
        m = message(() -> KernelLoader.load(memory, BootRequest.of(kernel, Optional.of(big), "")));
        assertTrue(m.contains("larger than guest RAM"), m);
    }

    @Test
    void aFailedLoadWritesNothing() throws Exception {
        Path kernel = image(b -> b.cmdlineSize = 4);
        assertThrows(BootConfigException.class,
                () -> KernelLoader.load(memory, BootRequest.of(kernel, Optional.empty(), "too long")));
        assertArrayEquals(new byte[4096], memory.read(0x100000, 4096));
        assertArrayEquals(new byte[BootParams.SIZE], memory.read(Layout.ZERO_PAGE, BootParams.SIZE));
    }

    @Test
    void bzImageHasNoPvhEntry() throws Exception {
        Path kernel = image(b -> {});
        BootException e = assertThrows(KernelImageException.class,
                () -> KernelLoader.load(memory, BootRequest.of(kernel, Optional.empty(), "").withEntry(EntryKind.PVH_32)));
        assertTrue(e.getMessage().contains("no PVH entry"));
    }

    @Test
    void nonRelocatableKernelRunsAtPrefAddress() throws Exception {
        Path kernel = image(b -> {
            b.relocatable = false;
            b.prefAddress = 0x200_0000;
        });
        LoadedKernel k = KernelLoader.load(memory, BootRequest.of(kernel, Optional.empty(), ""));
        assertEquals(0x200_0000 + 0x40_0000, k.kernelEnd());
        assertTrue(Files.exists(kernel));
    }
}
