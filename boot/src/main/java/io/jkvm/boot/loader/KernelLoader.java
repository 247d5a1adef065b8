package io.jkvm.boot.loader;

import io.jkvm.boot.Layout;
import io.jkvm.memory.GuestMemory;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Loads a Linux kernel (bzImage or ELF vmlinux), its initrd and command line into guest memory and
 * writes the boot information (zero page, or PVH start_info) with the e820 map. Everything is validated
 * before the first byte is written, so a {@link BootException} leaves guest memory untouched.
 */
public final class KernelLoader {
    private static final long PAGE = 0x1000;
    /**
     * Highest initrd byte for a vmlinux, which has no initrd_addr_max: 2 GiB - 1, the value of every
     * x86-64 bzImage (boot.rst: INITRD_ADDR_MAX of 64-bit kernels is 0x7fffffff).
     */
    private static final long ELF_INITRD_ADDR_MAX = 0x7fff_ffffL;
    /** The PVH entry runs with paging off: it must be a 32-bit address. */
    private static final long PVH_ENTRY_LIMIT = 1L << 32;

    private KernelLoader() {}

    /**
     * Loads {@code request} into {@code memory} (normally allocated from {@link Layout#ramRanges}).
     *
     * @throws KernelImageException for a missing, unreadable, truncated or unsupported kernel file
     * @throws BootConfigException  for an initrd that is missing or does not fit, a command line that is
     *                              too long, or memory too small for the kernel
     */
    public static LoadedKernel load(GuestMemory memory, BootRequest request) {
        E820Map e820 = E820Map.forMemory(memory);
        try (ImageFile kernel = ImageFile.openKernel(request.kernel())) {
            return ElfKernel.isElf(kernel)
                    ? loadElf(memory, request, e820, kernel, ElfKernel.parse(kernel))
                    : loadBzImage(memory, request, e820, kernel, BzImage.parse(kernel));
        }
    }

    private static LoadedKernel loadBzImage(GuestMemory memory, BootRequest request, E820Map e820,
                                            ImageFile kernel, BzImage image) {
        if (request.entry().orElse(EntryKind.LINUX_64) != EntryKind.LINUX_64)
            throw kernel.error("a bzImage has no PVH entry point; boot the ELF vmlinux for PVH");
        long load = Layout.KERNEL_START;
        // boot.rst: the kernel decompresses itself into [runtime start, + init_size), at pref_address when it is
        // not relocatable; that range must not start below the 1 MiB it is loaded at, nor wrap.
        long runtime = image.runtimeStart(load);
        if (Long.compareUnsigned(runtime, load) < 0)
            throw kernel.error(String.format("bzImage is not relocatable and its pref_address %#x is below %s",
                    runtime, MemorySize.format(load)));
        if (Long.compareUnsigned(runtime + image.initSize(), runtime) < 0)
            throw kernel.error(String.format("bzImage pref_address %#x + init_size %#x wraps around the address space",
                    runtime, image.initSize()));
        long end = image.footprintEnd(load);
        requireRam(e820, request.kernel(), load, end, String.format("(image %s, runtime start %#x + init_size %s)",
                MemorySize.format(image.payloadSize()), runtime, MemorySize.format(image.initSize())));
        byte[] cmdline = Cmdline.encode(request.cmdline(), Math.min(image.cmdlineSize(), Layout.CMDLINE_MAX_SIZE - 1));
        try (Initrd initrd = Initrd.open(request.initrd())) {
            Optional<LoadedKernel.Placement> placement = initrd.place(e820, end, image.initrdAddrMax());

            kernel.copyTo(memory, load, image.payloadOffset(), image.payloadSize());
            initrd.copyTo(memory, placement);
            memory.write(Layout.CMDLINE, cmdline);
            // acpi_rsdp_addr exists from protocol 2.14; older kernels find the RSDP by scanning 0xE0000-0xFFFFF.
            writeZeroPage(memory, BootParams.fromSetupHeader(image), e820, placement,
                    image.version() >= BzImage.VERSION_ACPI_RSDP ? request.acpiRsdp() : OptionalLong.empty());
            return new LoadedKernel(LoadedKernel.Format.BZIMAGE, EntryKind.LINUX_64, load + BzImage.ENTRY_64_OFFSET,
                    Layout.ZERO_PAGE, load, end, Layout.CMDLINE, cmdline.length - 1, placement, e820);
        }
    }

    private static LoadedKernel loadElf(GuestMemory memory, BootRequest request, E820Map e820,
                                        ImageFile kernel, ElfKernel elf) {
        EntryKind kind = request.entry().orElse(elf.pvhEntry().isPresent() ? EntryKind.PVH_32 : EntryKind.LINUX_64);
        long entry = switch (kind) {
            case LINUX_64 -> elf.entry();
            case PVH_32 -> elf.pvhEntry().orElseThrow(() -> kernel.error(
                    "PVH entry requested, but the ELF kernel has no XEN_ELFNOTE_PHYS32_ENTRY note (CONFIG_PVH off)"));
        };
        if (kind == EntryKind.PVH_32 && entry >= PVH_ENTRY_LIMIT)
            throw kernel.error(String.format("PVH entry point %#x is above 4 GiB", entry));
        for (ElfKernel.Segment s : elf.segments())
            requireRam(e820, request.kernel(), s.physAddress(), s.physEnd(), "(ELF segment)");
        byte[] cmdline = Cmdline.encode(request.cmdline(), BootParams.DEFAULT_CMDLINE_SIZE);
        try (Initrd initrd = Initrd.open(request.initrd())) {
            Optional<LoadedKernel.Placement> placement = initrd.place(e820, elf.physEnd(), ELF_INITRD_ADDR_MAX);

            elf.load(kernel, memory);
            initrd.copyTo(memory, placement);
            memory.write(Layout.CMDLINE, cmdline);
            long bootInfo = switch (kind) {
                case LINUX_64 -> {
                    writeZeroPage(memory, BootParams.withoutSetupHeader(BootParams.DEFAULT_CMDLINE_SIZE), e820,
                            placement, request.acpiRsdp());
                    yield Layout.ZERO_PAGE;
                }
                case PVH_32 -> {
                    PvhStartInfo.write(memory, Layout.PVH_START_INFO, Layout.CMDLINE, placement, e820, request.acpiRsdp());
                    yield Layout.PVH_START_INFO;
                }
            };
            return new LoadedKernel(LoadedKernel.Format.ELF, kind, entry, bootInfo, elf.physStart(), elf.physEnd(),
                    Layout.CMDLINE, cmdline.length - 1, placement, e820);
        }
    }

    private static void writeZeroPage(GuestMemory memory, BootParams params, E820Map e820,
                                      Optional<LoadedKernel.Placement> initrd, OptionalLong rsdp) {
        params.cmdline(Layout.CMDLINE).e820(e820);
        initrd.ifPresent(p -> params.ramdisk(p.address(), p.size()));
        rsdp.ifPresent(params::acpiRsdp);
        params.writeTo(memory, Layout.ZERO_PAGE);
    }

    /** [start, end) must be RAM in the map (which implies: backed by guest memory). */
    private static void requireRam(E820Map e820, Path kernel, long start, long end, String detail) {
        if (Long.compareUnsigned(end, start) < 0 || !e820.isRam(start, end - start))
            throw new BootConfigException(String.format("%s: the kernel needs RAM at [%#x, %#x) %s, which guest memory"
                    + " (%s) does not provide; give the guest more memory", kernel, start, end, detail, describe(e820)));
    }

    private static String describe(E820Map e820) {
        return e820.entries().stream().filter(e -> e.type() == E820Map.Type.RAM)
                .map(e -> String.format("[%#x, %#x)", e.address(), e.end())).reduce((a, b) -> a + " " + b).orElse("none");
    }

    /** The optional initrd file: placed as high as allowed (boot.rst: "as high as possible"), page-aligned. */
    private record Initrd(Optional<ImageFile> file) implements AutoCloseable {
        static Initrd open(Optional<Path> path) {
            Optional<ImageFile> file = path.map(ImageFile::openInitrd);
            file.ifPresent(f -> {
                if (f.size() == 0) {
                    f.close();
                    throw f.error("initrd is empty");
                }
            });
            return new Initrd(file);
        }

        /**
         * The highest page-aligned place for the initrd inside one RAM entry, at or above {@code lowest}
         * (the end of the kernel's area) and ending at most at {@code addrMax} + 1.
         */
        Optional<LoadedKernel.Placement> place(E820Map e820, long lowest, long addrMax) {
            if (file.isEmpty()) return Optional.empty();
            ImageFile f = file.get();
            long size = f.size();
            long ram = e820.entries().stream().filter(e -> e.type() == E820Map.Type.RAM).mapToLong(E820Map.Entry::size).sum();
            if (size > ram)
                throw f.error("initrd of " + MemorySize.format(size) + " is larger than guest RAM (" + MemorySize.format(ram) + ")");
            List<E820Map.Entry> entries = e820.entries();
            for (int i = entries.size() - 1; i >= 0; i--) {
                E820Map.Entry e = entries.get(i);
                if (e.type() != E820Map.Type.RAM) continue;
                long top = Math.min(e.end(), addrMax + 1);
                long start = (top - size) & -PAGE;
                if (size <= top && start >= Math.max(e.address(), lowest)) return Optional.of(new LoadedKernel.Placement(start, size));
            }
            throw f.error(String.format("initrd of %s does not fit in guest RAM between the kernel's end %#x and the"
                    + " initrd limit %#x (RAM: %s)", MemorySize.format(size), lowest, addrMax + 1, describe(e820)));
        }

        void copyTo(GuestMemory memory, Optional<LoadedKernel.Placement> placement) {
            placement.ifPresent(p -> file.orElseThrow().copyTo(memory, p.address(), 0, p.size()));
        }

        @Override
        public void close() {
            file.ifPresent(ImageFile::close);
        }
    }
}
