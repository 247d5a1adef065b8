package io.jkvm.boot.loader;

import io.jkvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The PVH boot ABI's {@code struct hvm_start_info} (version 1, with memory map), followed in the same page
 * by the module list (the initrd) and the memory map. Layout: xen/include/public/arch-x86/hvm/start_info.h;
 * Linux reads it in arch/x86/platform/pvh/enlighten.c. All addresses are guest-physical, 0 = absent.
 */
public final class PvhStartInfo {
    /** One page holds all three parts. */
    public static final int SIZE = 0x1000;

    /** XEN_HVM_START_MAGIC_VALUE: "xEn3" with the 0x80 bit of the "E" set. */
    static final int MAGIC = 0x336e_c578;
    /** Version 1 adds memmap_paddr/memmap_entries, which Linux needs when not running on Xen. */
    private static final int VERSION = 1;
    private static final int MAGIC_OFF = 0, VERSION_OFF = 4, NR_MODULES = 12, MODLIST_PADDR = 16;
    private static final int CMDLINE_PADDR = 24, RSDP_PADDR = 32, MEMMAP_PADDR = 40, MEMMAP_ENTRIES = 48;
    /** hvm_modlist_entry {paddr, size, cmdline_paddr, reserved} at this offset in the page. */
    private static final int MODLIST = 0x40;
    /** hvm_memmap_table_entry {u64 addr, u64 size, u32 type, u32 reserved} array at this offset. */
    private static final int MEMMAP = 0x80;
    private static final int MEMMAP_ENTRY_SIZE = 24;

    private PvhStartInfo() {}

    /**
     * The page for a start_info at {@code gpa}: command line at {@code cmdline}, the initrd (if any) as
     * module 0, the memory map, and the RSDP if given.
     */
    static byte[] build(long gpa, long cmdline, Optional<LoadedKernel.Placement> initrd, E820Map map, OptionalLong rsdp) {
        ByteBuffer page = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        page.putInt(MAGIC_OFF, MAGIC).putInt(VERSION_OFF, VERSION);
        page.putLong(CMDLINE_PADDR, cmdline);
        page.putLong(RSDP_PADDR, rsdp.orElse(0));
        initrd.ifPresent(p -> {
            page.putInt(NR_MODULES, 1).putLong(MODLIST_PADDR, gpa + MODLIST);
            page.putLong(MODLIST, p.address()).putLong(MODLIST + 8, p.size());
        });
        int i = 0;
        for (E820Map.Entry e : map.entries()) {
            int at = MEMMAP + i++ * MEMMAP_ENTRY_SIZE;
            page.putLong(at, e.address()).putLong(at + 8, e.size()).putInt(at + 16, e.type().code());
        }
        page.putLong(MEMMAP_PADDR, gpa + MEMMAP).putInt(MEMMAP_ENTRIES, i);
        return page.array();
    }

    /** Builds the page (see {@link #build}) and writes it to guest RAM at {@code gpa}. */
    static void write(GuestMemory memory, long gpa, long cmdline, Optional<LoadedKernel.Placement> initrd,
                      E820Map map, OptionalLong rsdp) {
        memory.write(gpa, build(gpa, cmdline, initrd, map, rsdp));
    }
}
