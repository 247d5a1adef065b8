package io.jkvm.boot.loader;

import io.jkvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The zero page ({@code struct boot_params}) of the Linux 64-bit boot protocol, built in the heap and
 * written to guest memory in one piece. Offsets: Linux Documentation/arch/x86/zero-page.rst and the
 * setup header of boot.rst.
 */
public final class BootParams {
    /** The zero page is one 4 KiB page. */
    public static final int SIZE = 0x1000;

    private static final int ACPI_RSDP_ADDR = 0x070;
    private static final int EXT_RAMDISK_IMAGE = 0x0c0;
    private static final int EXT_RAMDISK_SIZE = 0x0c4;
    private static final int EXT_CMD_LINE_PTR = 0x0c8;
    private static final int E820_ENTRIES = 0x1e8;
    private static final int E820_TABLE = 0x2d0;
    private static final int E820_ENTRY_SIZE = 20;
    /** boot.rst: "type_of_loader: 0xFF = undefined" — a boot loader without an assigned id. */
    private static final byte LOADER_UNDEFINED = (byte) 0xff;
    /**
     * boot.rst's example heap end for a bzImage (heap_end = 0xe000, heap_end_ptr = heap_end - 0x200). Only
     * the real-mode setup code reads it, which the 64-bit entry skips; set for completeness with CAN_USE_HEAP.
     */
    private static final short HEAP_END_PTR = (short) 0xde00;
    /** x86 COMMAND_LINE_SIZE (2048) minus the NUL: the limit of a kernel without a setup header. */
    public static final long DEFAULT_CMDLINE_SIZE = 2047;
    /** boot.rst: kernel_alignment assumed for kernels older than 2.05; used for the vmlinux header. */
    private static final int DEFAULT_KERNEL_ALIGNMENT = 0x0100_0000;

    private final ByteBuffer page = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);

    private BootParams() {}

    /** A zero page holding a copy of the bzImage's setup header (0x1F1 to its end, boot.rst "loading the rest"). */
    static BootParams fromSetupHeader(BzImage image) {
        BootParams p = new BootParams();
        p.page.put(BzImage.SETUP_HEADER_START, image.setupHeader());
        p.page.put(BzImage.LOADFLAGS, (byte) (image.loadflags() | BzImage.CAN_USE_HEAP));
        p.page.putShort(BzImage.HEAP_END_PTR, HEAP_END_PTR);
        return p.markLoaded();
    }

    /**
     * A zero page for a kernel without a setup header (vmlinux): the fields startup_64 and the early
     * setup code consult, as a boot loader of protocol 2.x would have set them.
     */
    static BootParams withoutSetupHeader(long cmdlineSize) {
        BootParams p = new BootParams();
        p.page.putShort(BzImage.BOOT_FLAG, (short) BzImage.BOOT_FLAG_MAGIC);
        p.page.putInt(BzImage.HEADER, BzImage.HDRS_MAGIC);
        p.page.put(BzImage.LOADFLAGS, (byte) BzImage.LOADED_HIGH);
        p.page.putInt(BzImage.KERNEL_ALIGNMENT, DEFAULT_KERNEL_ALIGNMENT);
        p.page.putInt(BzImage.CMDLINE_SIZE, (int) cmdlineSize);
        return p.markLoaded();
    }

    private BootParams markLoaded() {
        page.put(BzImage.TYPE_OF_LOADER, LOADER_UNDEFINED);
        return this;
    }

    /** cmd_line_ptr (+ ext_cmd_line_ptr for the high 32 bits). */
    BootParams cmdline(long address) {
        page.putInt(BzImage.CMD_LINE_PTR, (int) address);
        page.putInt(EXT_CMD_LINE_PTR, (int) (address >>> 32));
        return this;
    }

    /** ramdisk_image/ramdisk_size (+ ext_ fields for the high 32 bits, protocol 2.12). */
    BootParams ramdisk(long address, long size) {
        page.putInt(BzImage.RAMDISK_IMAGE, (int) address);
        page.putInt(BzImage.RAMDISK_SIZE, (int) size);
        page.putInt(EXT_RAMDISK_IMAGE, (int) (address >>> 32));
        page.putInt(EXT_RAMDISK_SIZE, (int) (size >>> 32));
        return this;
    }

    /** e820_entries and e820_table: 20-byte entries {u64 addr, u64 size, u32 type}. */
    BootParams e820(E820Map map) {
        int i = 0;
        for (E820Map.Entry e : map.entries()) {
            int at = E820_TABLE + i++ * E820_ENTRY_SIZE;
            page.putLong(at, e.address()).putLong(at + 8, e.size()).putInt(at + 16, e.type().code());
        }
        page.put(E820_ENTRIES, (byte) i);
        return this;
    }

    /** acpi_rsdp_addr (protocol 2.14): the kernel uses it instead of scanning for the RSDP. */
    BootParams acpiRsdp(long address) {
        page.putLong(ACPI_RSDP_ADDR, address);
        return this;
    }

    /** Writes the whole page to guest RAM at {@code gpa}. */
    void writeTo(GuestMemory memory, long gpa) {
        memory.write(gpa, page.array());
    }
}
