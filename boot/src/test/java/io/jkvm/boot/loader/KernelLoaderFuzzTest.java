package io.jkvm.boot.loader;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jkvm.boot.Layout;
import io.jkvm.memory.GuestMemory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the kernel loaders ({@link KernelLoader} in front of {@link BzImage} and {@link ElfKernel}) with
 * mutated kernel images: the committed inputs start from real headers (the setup header of Debian's 6.1
 * cloud bzImage, the ELF and program headers and notes of a Linux vmlinux with a PVH note) and small crafted
 * images. The input is the kernel file, with its last bytes choosing an initrd (none, small, larger than
 * RAM allows, missing), the command line (default, empty, too long), the entry kind and ACPI.
 * Invariants: only {@link BootException} escapes (no GuestMemoryException, arithmetic or index error, no
 * OutOfMemoryError from a size read out of the header); when it does, guest memory is untouched (the loader
 * validates everything before its first write); when loading succeeds, the entry point and every loaded byte
 * are inside guest RAM. Committed inputs: {@code KernelLoaderFuzzTestInputs/kernelLoader/}.
 */
class KernelLoaderFuzzTest {
    private static final long MIB = 1 << 20;
    /** Enough for the real bzImage header's pref_address + init_size (16 MiB + 51.5 MiB). */
    private static final long RAM = 96 * MIB;
    private static final String[] CMDLINES = {"console=ttyS0", "", "x".repeat(70_000), "a b c -- d"};

    private static final byte[] ZEROS = new byte[(int) (16 * MIB)];
    private static Path dir;
    private static GuestMemory memory;
    private static boolean memoryDirty;

    @BeforeAll
    static void setUp() throws IOException {
        dir = Files.createTempDirectory("jkvm-fuzz-loader");
        memory = GuestMemory.allocate(Layout.ramRanges(RAM));
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (memory != null) memory.close();
        if (dir != null) try (var files = Files.list(dir)) {
            for (Path p : files.toList()) Files.delete(p);
            Files.delete(dir);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void kernelLoader(FuzzedDataProvider in) throws IOException {
        if (memoryDirty) { // a fresh, all-zero RAM after a load that wrote it
            memory.close();
            memory = GuestMemory.allocate(Layout.ramRanges(RAM));
            memoryDirty = false;
        }
        int initrdChoice = in.consumeInt(0, 3);
        String cmdline = CMDLINES[in.consumeInt(0, CMDLINES.length - 1)];
        int entry = in.consumeInt(0, 2);
        boolean acpi = in.consumeBoolean();
        byte[] image = in.consumeRemainingAsBytes();

        Path kernel = Files.write(dir.resolve("kernel"), image);
        Optional<Path> initrd = switch (initrdChoice) {
            case 1 -> Optional.of(Files.write(dir.resolve("initrd"), new byte[4096]));
            case 2 -> Optional.of(sparse(dir.resolve("big-initrd"), RAM)); // cannot fit
            case 3 -> Optional.of(dir.resolve("missing-initrd"));
            default -> Optional.empty();
        };
        BootRequest request = BootRequest.of(kernel, initrd, cmdline);
        if (acpi) request = request.withAcpiRsdp(Layout.ACPI_RSDP);
        if (entry == 1) request = request.withEntry(EntryKind.LINUX_64);
        if (entry == 2) request = request.withEntry(EntryKind.PVH_32);

        LoadedKernel loaded;
        try {
            loaded = KernelLoader.load(memory, request);
        } catch (BootException expected) {
            assertTrue(expected.getMessage() != null && !expected.getMessage().isBlank(), "a BootException without a message");
            assertUntouched(image.length);
            return;
        }
        memoryDirty = true;
        assertTrue(memory.contains(loaded.entryAddress(), 1), String.format("entry %#x outside RAM", loaded.entryAddress()));
        assertTrue(loaded.kernelEnd() >= loaded.kernelStart()
                && memory.contains(loaded.kernelStart(), loaded.kernelEnd() - loaded.kernelStart()),
                String.format("kernel [%#x, %#x) outside RAM", loaded.kernelStart(), loaded.kernelEnd()));
        loaded.initrd().ifPresent(p -> assertTrue(memory.contains(p.address(), p.size()), "initrd outside RAM: " + p));
    }

    /** The places a load writes (boot data below 1 MiB, the kernel at 1 MiB and 16 MiB, the initrd at the top) are still zero. */
    private static void assertUntouched(int imageLength) {
        long window = Math.min(imageLength + 0x10000L, 16 * MIB);
        long[][] ranges = {{0, Layout.PAGE_TABLES_END}, {Layout.CMDLINE, Layout.CMDLINE_MAX_SIZE},
                {Layout.KERNEL_START, window}, {16 * MIB, window}, {RAM - 2 * MIB, 2 * MIB}};
        for (long[] r : ranges) {
            byte[] bytes = memory.read(r[0], (int) r[1]);
            int at = Arrays.mismatch(bytes, 0, bytes.length, ZEROS, 0, bytes.length);
            if (at >= 0) fail(String.format("a failed load wrote guest RAM at %#x", r[0] + at));
        }
    }

    private static Path sparse(Path path, long size) throws IOException {
        if (!Files.exists(path)) {
            try (var f = java.nio.channels.FileChannel.open(path, java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.WRITE)) {
                f.truncate(0);
                f.position(size - 1).write(java.nio.ByteBuffer.wrap(new byte[1]));
            }
        }
        return path;
    }
}
