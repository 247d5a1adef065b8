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
import io.jkvm.boot.GuestArtifacts;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The real kernels through exactly the code path of a boot: Debian's cloud kernel (vmlinuz-cloud) and
 * jkvm's own kernel (bzImage, vmlinux). Skipped when a file is absent, see {@link GuestArtifacts}.
 */
class RealKernelTest {
    private static final long MIB = 1 << 20;
    private static final String CMDLINE = "console=ttyS0 noxsave quiet panic=-1";
    @TempDir Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"vmlinuz-cloud", "bzImage"})
    void bzImageHeaderAndZeroPage(String name) throws Exception {
        Path kernel = GuestArtifacts.named(name);
        byte[] file = Files.readAllBytes(kernel);
        BzImage image;
        try (ImageFile f = ImageFile.openKernel(kernel)) {
            image = BzImage.parse(f);
        }
        assertTrue(image.version() >= 0x020c, "protocol " + Integer.toHexString(image.version()));
        assertNotEquals(0, image.xloadflags() & BzImage.XLF_KERNEL_64);
        assertNotEquals(0, image.loadflags() & BzImage.LOADED_HIGH);
        // Debian's kernel is relocatable; jkvm's minimal one is not (it runs where its decompressor puts it).
        if (name.equals("vmlinuz-cloud")) assertTrue(image.relocatable());
        assertEquals(1, Long.bitCount(image.kernelAlignment()));
        assertTrue(image.prefAddress() >= MIB && image.prefAddress() % image.kernelAlignment() == 0,
                "pref_address " + Long.toHexString(image.prefAddress()));
        assertTrue(image.initSize() > image.payloadSize(), "decompressed kernel is larger than the compressed one");
        assertTrue(image.cmdlineSize() >= 255);
        assertTrue(image.initrdAddrMax() >= 0x37ff_ffffL);
        int setupSects = file[0x1f1] == 0 ? 4 : Byte.toUnsignedInt(file[0x1f1]);
        assertEquals((setupSects + 1) * 512L, image.payloadOffset());
        assertEquals(file.length - image.payloadOffset(), image.payloadSize());

        byte[] initrd = TestImages.pattern(3 * (int) MIB + 17, 7);
        Path rd = TestImages.write(dir, "initrd.cpio", initrd);
        try (GuestMemory memory = GuestMemory.allocate(Layout.ramRanges(256 * MIB))) {
            LoadedKernel k = KernelLoader.load(memory,
                    BootRequest.of(kernel, Optional.of(rd), CMDLINE).withAcpiRsdp(Layout.ACPI_RSDP));

            assertEquals(EntryKind.LINUX_64, k.entryKind());
            assertEquals(Layout.KERNEL_START + 0x200, k.entryAddress());
            int payload = (int) image.payloadOffset();
            assertArrayEquals(Arrays.copyOfRange(file, payload, file.length),
                    memory.read(Layout.KERNEL_START, file.length - payload), "protected-mode kernel at 1 MiB");
            assertEquals(Math.max(image.prefAddress(), 2 * MIB) + image.initSize(), k.kernelEnd());

            ByteBuffer zp = ByteBuffer.wrap(memory.read(Layout.ZERO_PAGE, BootParams.SIZE)).order(ByteOrder.LITTLE_ENDIAN);
            int headerEnd = 0x202 + Byte.toUnsignedInt(file[0x201]);
            for (int off = 0x1f1; off < headerEnd; off++) {
                boolean written = off == 0x210 || off == 0x211 || (off >= 0x218 && off < 0x220)
                        || (off >= 0x224 && off < 0x22c);
                if (!written) assertEquals(file[off], zp.get(off), "setup header byte " + Integer.toHexString(off));
            }
            assertEquals((byte) 0xff, zp.get(0x210));
            assertEquals(Layout.CMDLINE, zp.getInt(0x228));
            assertArrayEquals((CMDLINE + "\0").getBytes(), memory.read(Layout.CMDLINE, CMDLINE.length() + 1));
            assertEquals(image.version() >= 0x020e ? Layout.ACPI_RSDP : 0, zp.getLong(0x70));

            LoadedKernel.Placement p = k.initrd().orElseThrow();
            assertEquals(p.address(), Integer.toUnsignedLong(zp.getInt(0x218)));
            assertEquals(initrd.length, zp.getInt(0x21c));
            assertEquals(0, p.address() % 4096);
            assertTrue(p.address() >= k.kernelEnd(), "initrd clear of the kernel's init_size area");
            assertTrue(p.end() - 1 <= image.initrdAddrMax());
            assertTrue(p.end() > 256 * MIB - 4096, "initrd at the top of RAM: " + p);
            assertArrayEquals(initrd, memory.read(p.address(), initrd.length));

            int entries = zp.get(0x1e8);
            assertEquals(k.e820().entries().size(), entries);
            assertEquals(3, entries);
            long ramEnd = 0;
            for (int i = 0; i < entries; i++) {
                int at = 0x2d0 + 20 * i;
                if (zp.getInt(at + 16) == 1) ramEnd = Math.max(ramEnd, zp.getLong(at) + zp.getLong(at + 8));
            }
            assertEquals(256 * MIB, ramEnd);
        }
    }

    @Test
    void vmlinuxSegmentsAndEntries() throws Exception {
        Path kernel = GuestArtifacts.vmlinux();
        ElfKernel elf;
        try (ImageFile f = ImageFile.openKernel(kernel)) {
            elf = ElfKernel.parse(f);
        }
        assertTrue(elf.physStart() >= MIB);
        assertTrue(elf.pvhEntry().isPresent(), "jkvm boots vmlinux through PVH: kernel needs CONFIG_PVH");
        long pvh = elf.pvhEntry().getAsLong();
        assertTrue(pvh >= elf.physStart() && pvh < elf.physEnd());
        assertTrue(elf.entry() >= elf.physStart() && elf.entry() < elf.physEnd());

        try (GuestMemory memory = GuestMemory.allocate(Layout.ramRanges(256 * MIB))) {
            LoadedKernel k = KernelLoader.load(memory, BootRequest.of(kernel, Optional.empty(), CMDLINE));
            assertEquals(EntryKind.PVH_32, k.entryKind());
            assertEquals(pvh, k.entryAddress());
            assertEquals(0x336ec578, memory.readInt(Layout.PVH_START_INFO));
            assertEquals(k.e820().entries().size(), memory.readInt(Layout.PVH_START_INFO + 48));
            try (ImageFile f = ImageFile.openKernel(kernel)) {
                for (ElfKernel.Segment s : elf.segments()) {
                    int n = (int) Math.min(s.fileSize(), 64 * 1024);
                    ByteBuffer expected = f.read(s.offset() + s.fileSize() - n, n);
                    assertEquals(expected, ByteBuffer.wrap(memory.read(s.physAddress() + s.fileSize() - n, n)),
                            "tail of segment at " + Long.toHexString(s.physAddress()));
                    assertArrayEquals(f.read(s.offset(), 4096).array(), memory.read(s.physAddress(), 4096));
                }
            }

            LoadedKernel forced = KernelLoader.load(memory,
                    BootRequest.of(kernel, Optional.empty(), CMDLINE).withEntry(EntryKind.LINUX_64));
            assertEquals(elf.entry(), forced.entryAddress());
            assertEquals(Layout.CMDLINE, memory.readInt(Layout.ZERO_PAGE + 0x228));
        }
    }
}
