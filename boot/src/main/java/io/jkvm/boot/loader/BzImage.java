package io.jkvm.boot.loader;

import java.nio.ByteBuffer;

/**
 * A bzImage: the real-mode setup sectors with the setup header, followed by the compressed protected-mode
 * kernel. Field offsets and rules from Linux Documentation/arch/x86/boot.rst ("The real-mode kernel
 * header", "Details of header fields", "64-bit boot protocol"). Only kernels with the 64-bit entry point
 * (protocol 2.12+, XLF_KERNEL_64) are accepted: jkvm enters the kernel in long mode at load address + 0x200.
 */
public final class BzImage {
    /** First byte of the setup header, which is copied into the zero page at the same offset. */
    static final int SETUP_HEADER_START = 0x1f1;
    /** The setup header must end before the zero page's edd_mbr_sig_buffer (zero-page.rst). */
    static final int SETUP_HEADER_LIMIT = 0x290;

    static final int SETUP_SECTS = 0x1f1;
    static final int SYSSIZE = 0x1f4;
    static final int BOOT_FLAG = 0x1fe;
    static final int JUMP = 0x200;
    static final int HEADER = 0x202;
    static final int VERSION = 0x206;
    static final int TYPE_OF_LOADER = 0x210;
    static final int LOADFLAGS = 0x211;
    static final int RAMDISK_IMAGE = 0x218;
    static final int RAMDISK_SIZE = 0x21c;
    static final int HEAP_END_PTR = 0x224;
    static final int CMD_LINE_PTR = 0x228;
    static final int INITRD_ADDR_MAX = 0x22c;
    static final int KERNEL_ALIGNMENT = 0x230;
    static final int RELOCATABLE_KERNEL = 0x234;
    static final int XLOADFLAGS = 0x236;
    static final int CMDLINE_SIZE = 0x238;
    static final int PREF_ADDRESS = 0x258;
    static final int INIT_SIZE = 0x260;
    /** The fields read here end with init_size (protocol 2.10); 2.12 headers are longer still. */
    private static final int MIN_HEADER_END = INIT_SIZE + 4;

    static final int BOOT_FLAG_MAGIC = 0xaa55;
    static final int HDRS_MAGIC = 0x5372_6448; // "HdrS" little-endian
    /** Boot protocol 2.12: first with xloadflags, i.e. with a declared 64-bit entry point. */
    static final int MIN_VERSION = 0x020c;
    /** Boot protocol 2.14: acpi_rsdp_addr in the zero page is honoured. */
    static final int VERSION_ACPI_RSDP = 0x020e;
    /** loadflags bit 0: the protected-mode code is loaded at 0x100000. */
    static final int LOADED_HIGH = 0b0000_0001;
    /** loadflags bit 7: heap_end_ptr is valid. */
    static final int CAN_USE_HEAP = 0b1000_0000;
    /** xloadflags bit 0: the kernel has the legacy 64-bit entry point at 0x200. */
    static final int XLF_KERNEL_64 = 0b0000_0001;
    /** setup_sects 0 means 4 (boot.rst, for compatibility). */
    private static final int DEFAULT_SETUP_SECTS = 4;
    private static final int SECTOR = 512;
    /** The 64-bit entry is 0x200 bytes into the protected-mode kernel (boot.rst "64-bit boot protocol"). */
    static final long ENTRY_64_OFFSET = 0x200;

    private final byte[] setupHeader;
    private final int version;
    private final int loadflags;
    private final int xloadflags;
    private final boolean relocatable;
    private final long kernelAlignment;
    private final long prefAddress;
    private final long initSize;
    private final long cmdlineSize;
    private final long initrdAddrMax;
    private final long payloadOffset;
    private final long payloadSize;

    private BzImage(ByteBuffer h, int headerEnd, long payloadOffset, long payloadSize) {
        this.setupHeader = new byte[headerEnd - SETUP_HEADER_START];
        h.get(SETUP_HEADER_START, setupHeader);
        this.version = Short.toUnsignedInt(h.getShort(VERSION));
        this.loadflags = Byte.toUnsignedInt(h.get(LOADFLAGS));
        this.xloadflags = Short.toUnsignedInt(h.getShort(XLOADFLAGS));
        this.relocatable = h.get(RELOCATABLE_KERNEL) != 0;
        this.kernelAlignment = Integer.toUnsignedLong(h.getInt(KERNEL_ALIGNMENT));
        this.prefAddress = h.getLong(PREF_ADDRESS);
        this.initSize = Integer.toUnsignedLong(h.getInt(INIT_SIZE));
        this.cmdlineSize = Integer.toUnsignedLong(h.getInt(CMDLINE_SIZE));
        this.initrdAddrMax = Integer.toUnsignedLong(h.getInt(INITRD_ADDR_MAX));
        this.payloadOffset = payloadOffset;
        this.payloadSize = payloadSize;
    }

    /** Validates the header of {@code file}; throws {@link KernelImageException} naming what is wrong. */
    static BzImage parse(ImageFile file) {
        if (file.size() < SETUP_HEADER_LIMIT)
            throw file.error("not a Linux kernel image: " + file.size() + " bytes is too short for a bzImage header");
        ByteBuffer h = file.read(0, SETUP_HEADER_LIMIT);
        if (h.getInt(HEADER) != HDRS_MAGIC)
            throw file.error("not a Linux kernel image: neither ELF nor a bzImage ('HdrS' missing at 0x202)");
        if (Short.toUnsignedInt(h.getShort(BOOT_FLAG)) != BOOT_FLAG_MAGIC)
            throw file.error("bad bzImage: boot_flag at 0x1fe is not 0xaa55");
        int version = Short.toUnsignedInt(h.getShort(VERSION));
        if (version < MIN_VERSION)
            throw file.error(String.format("bzImage boot protocol %d.%02d is too old (2.12 or later needed for the 64-bit entry)",
                    version >> 8, version & 0xff));
        // boot.rst: the header ends at 0x202 + the byte at 0x201 (the jump's displacement).
        int headerEnd = HEADER + Byte.toUnsignedInt(h.get(JUMP + 1));
        if (headerEnd < MIN_HEADER_END || headerEnd > SETUP_HEADER_LIMIT)
            throw file.error(String.format("bad bzImage: setup header end %#x outside [%#x, %#x]",
                    headerEnd, MIN_HEADER_END, SETUP_HEADER_LIMIT));
        if ((Short.toUnsignedInt(h.getShort(XLOADFLAGS)) & XLF_KERNEL_64) == 0)
            throw file.error("bzImage has no 64-bit entry point (XLF_KERNEL_64 clear in xloadflags)");
        if ((Byte.toUnsignedInt(h.get(LOADFLAGS)) & LOADED_HIGH) == 0)
            throw file.error("not a bzImage: LOADED_HIGH clear in loadflags (zImage loaded at 0x10000 is not supported)");
        long kernelAlignment = Integer.toUnsignedLong(h.getInt(KERNEL_ALIGNMENT));
        if (Long.bitCount(kernelAlignment) != 1)
            throw file.error(String.format("bad bzImage: kernel_alignment %#x is not a power of two", kernelAlignment));
        int setupSects = Byte.toUnsignedInt(h.get(SETUP_SECTS));
        long payloadOffset = (long) ((setupSects == 0 ? DEFAULT_SETUP_SECTS : setupSects) + 1) * SECTOR;
        long syssize = Integer.toUnsignedLong(h.getInt(SYSSIZE)) * 16; // in 16-byte paragraphs
        if (file.size() <= payloadOffset || file.size() - payloadOffset < syssize)
            throw file.error(String.format("truncated bzImage: %d bytes, but setup (%d bytes) + kernel (syssize %d bytes) need %d",
                    file.size(), payloadOffset, syssize, payloadOffset + syssize));
        return new BzImage(h, headerEnd, payloadOffset, file.size() - payloadOffset);
    }

    /** Setup header bytes 0x1F1..end of header, to be copied into the zero page at offset 0x1F1. */
    byte[] setupHeader() {
        return setupHeader.clone();
    }

    /** Boot protocol version, e.g. 0x020f for 2.15. */
    public int version() { return version; }
    public int loadflags() { return loadflags; }
    public int xloadflags() { return xloadflags; }
    public boolean relocatable() { return relocatable; }
    public long kernelAlignment() { return kernelAlignment; }
    /** Where the kernel prefers to run (LOAD_PHYSICAL_ADDR); it decompresses itself there. */
    public long prefAddress() { return prefAddress; }
    /** Contiguous memory the kernel needs from its runtime start before it reads the memory map. */
    public long initSize() { return initSize; }
    /** Maximum command-line length, without the terminating NUL. */
    public long cmdlineSize() { return cmdlineSize; }
    /** Highest address the initrd may occupy (its last byte). */
    public long initrdAddrMax() { return initrdAddrMax; }
    /** File offset of the protected-mode kernel: (setup_sects + 1) * 512. */
    public long payloadOffset() { return payloadOffset; }
    public long payloadSize() { return payloadSize; }

    /**
     * Where the decompressed kernel will run when the image is loaded at {@code loadAddress}: the load
     * address aligned up to kernel_alignment, but not below pref_address (arch/x86/boot/compressed
     * head_64.S, LOAD_PHYSICAL_ADDR); a non-relocatable kernel always runs at pref_address.
     */
    public long runtimeStart(long loadAddress) {
        if (!relocatable) return prefAddress;
        long aligned = (loadAddress + kernelAlignment - 1) & -kernelAlignment;
        return unsignedMax(aligned, prefAddress);
    }

    /**
     * End (exclusive) of all memory the kernel uses before reading the e820 map, loaded at {@code loadAddress};
     * pref_address is a guest-supplied u64, so the caller checks {@link #runtimeStart} + init_size for wrapping.
     */
    public long footprintEnd(long loadAddress) {
        return unsignedMax(loadAddress + payloadSize, runtimeStart(loadAddress) + initSize);
    }

    private static long unsignedMax(long a, long b) {
        return Long.compareUnsigned(a, b) >= 0 ? a : b;
    }
}
