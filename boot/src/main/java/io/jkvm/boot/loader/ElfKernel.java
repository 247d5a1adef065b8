package io.jkvm.boot.loader;

import io.jkvm.boot.Layout;
import io.jkvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * An uncompressed ELF64 x86-64 kernel ({@code vmlinux}). Its PT_LOAD segments are loaded at their
 * physical addresses (p_paddr). It has two entry points:
 * <ul>
 * <li>the 64-bit one, e_entry: on x86-64 vmlinux.lds.S sets {@code ENTRY(phys_startup_64)}, the physical
 *     address of startup_64, which head_64.S enters in long mode with the boot_params pointer in RSI,
 *     exactly as the bzImage decompressor does;</li>
 * <li>the PVH one, from the ELF note "Xen" / XEN_ELFNOTE_PHYS32_ENTRY (18), entered in 32-bit protected
 *     mode with paging off and the hvm_start_info pointer in EBX (Xen's pvh.pandoc; Linux
 *     arch/x86/platform/pvh/head.S), present when the kernel is built with CONFIG_PVH.</li>
 * </ul>
 * Field offsets: System V gABI / ELF-64 Object File Format, with the x86-64 psABI.
 */
public final class ElfKernel {
    private static final int ELF_MAGIC = 0x464c_457f; // "\x7fELF" little-endian
    private static final int EI_CLASS = 4, EI_DATA = 5;
    private static final int ELFCLASS64 = 2, ELFDATA2LSB = 1;
    private static final int E_TYPE = 0x10, E_MACHINE = 0x12, E_ENTRY = 0x18, E_PHOFF = 0x20;
    private static final int E_PHENTSIZE = 0x36, E_PHNUM = 0x38;
    private static final int ELF64_EHDR_SIZE = 0x40;
    private static final int ET_EXEC = 2;
    private static final int EM_X86_64 = 62;
    private static final int PHDR_SIZE = 56;
    private static final int P_TYPE = 0, P_OFFSET = 8, P_VADDR = 16, P_PADDR = 24, P_FILESZ = 32, P_MEMSZ = 40;
    private static final int PT_LOAD = 1, PT_NOTE = 4;
    /** Enough for any real kernel (vmlinux has a handful); bounds what a hostile header makes us read. */
    private static final int MAX_PHDRS = 64;
    private static final int MAX_NOTE_SEGMENT = 1 << 20;
    /** xen/include/public/elfnote.h: physical 32-bit PVH entry point. */
    private static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;
    private static final byte[] XEN_NOTE_NAME = {'X', 'e', 'n', 0};

    /** One PT_LOAD segment: file bytes [offset, +fileSize) go to [physAddress, +fileSize), zeros up to memSize. */
    public record Segment(long physAddress, long virtAddress, long offset, long fileSize, long memSize) {
        long physEnd() {
            return physAddress + memSize;
        }
    }

    private final List<Segment> segments;
    private final long entry;
    private final OptionalLong pvhEntry;

    private ElfKernel(List<Segment> segments, long entry, OptionalLong pvhEntry) {
        this.segments = List.copyOf(segments);
        this.entry = entry;
        this.pvhEntry = pvhEntry;
    }

    /** Whether {@code file} starts with the ELF magic. */
    static boolean isElf(ImageFile file) {
        return file.size() >= 4 && file.read(0, 4).getInt(0) == ELF_MAGIC;
    }

    /** Validates the ELF header and program headers; throws {@link KernelImageException} naming the problem. */
    static ElfKernel parse(ImageFile file) {
        if (file.size() < ELF64_EHDR_SIZE) throw file.error("truncated ELF: " + file.size() + " bytes, no ELF64 header");
        ByteBuffer eh = file.read(0, ELF64_EHDR_SIZE);
        if (eh.get(EI_CLASS) != ELFCLASS64 || eh.get(EI_DATA) != ELFDATA2LSB)
            throw file.error("not an x86-64 kernel: ELF is not 64-bit little-endian");
        int machine = Short.toUnsignedInt(eh.getShort(E_MACHINE));
        if (machine != EM_X86_64)
            throw file.error("not an x86-64 kernel: ELF machine " + machine + " (expected 62, x86-64)");
        if (eh.getShort(E_TYPE) != ET_EXEC) throw file.error("not a kernel: ELF type is not ET_EXEC");
        int phnum = Short.toUnsignedInt(eh.getShort(E_PHNUM));
        if (Short.toUnsignedInt(eh.getShort(E_PHENTSIZE)) != PHDR_SIZE || phnum == 0 || phnum > MAX_PHDRS)
            throw file.error("bad ELF: program header table with " + phnum + " entries of "
                    + eh.getShort(E_PHENTSIZE) + " bytes");
        ByteBuffer ph = file.read(eh.getLong(E_PHOFF), phnum * PHDR_SIZE);

        List<Segment> segments = new ArrayList<>();
        OptionalLong pvhEntry = OptionalLong.empty();
        for (int i = 0; i < phnum; i++) {
            int base = i * PHDR_SIZE;
            int type = ph.getInt(base + P_TYPE);
            long offset = ph.getLong(base + P_OFFSET), fileSize = ph.getLong(base + P_FILESZ);
            if (type == PT_LOAD) {
                Segment s = new Segment(ph.getLong(base + P_PADDR), ph.getLong(base + P_VADDR), offset, fileSize,
                        ph.getLong(base + P_MEMSZ));
                checkSegment(file, s);
                segments.add(s);
            } else if (type == PT_NOTE && pvhEntry.isEmpty()) {
                if (fileSize < 0 || fileSize > MAX_NOTE_SEGMENT) throw file.error("bad ELF: note segment of " + fileSize + " bytes");
                pvhEntry = findPvhEntry(file.read(offset, (int) fileSize));
            }
        }
        if (segments.isEmpty()) throw file.error("bad ELF: no PT_LOAD segment");
        return new ElfKernel(segments, physicalEntry(file, segments, eh.getLong(E_ENTRY)), pvhEntry);
    }

    private static void checkSegment(ImageFile file, Segment s) {
        if (s.fileSize() < 0 || s.memSize() < s.fileSize() || s.offset() < 0
                || s.offset() > file.size() || s.fileSize() > file.size() - s.offset())
            throw file.error(String.format("truncated or bad ELF: segment at %#x has %#x file bytes at offset %#x (file has %d bytes)",
                    s.physAddress(), s.fileSize(), s.offset(), file.size()));
        if (s.physAddress() < Layout.KERNEL_START || s.physEnd() < s.physAddress())
            throw file.error(String.format("ELF segment at physical %#x (+%#x) is not in [1 MiB, 2^64)",
                    s.physAddress(), s.memSize()));
    }

    /**
     * e_entry as a physical address: as is when a segment's physical range holds it (Linux's case), else
     * translated through the segment whose virtual range holds it. Physical first, because vmlinux has a
     * per-CPU segment linked at virtual 0 whose range could otherwise capture a low physical entry.
     */
    private static long physicalEntry(ImageFile file, List<Segment> segments, long entry) {
        for (Segment s : segments) {
            if (Long.compareUnsigned(entry - s.physAddress(), s.memSize()) < 0) return entry;
        }
        for (Segment s : segments) {
            if (Long.compareUnsigned(entry - s.virtAddress(), s.memSize()) < 0) return s.physAddress() + (entry - s.virtAddress());
        }
        throw file.error(String.format("bad ELF: entry point %#x is outside every PT_LOAD segment", entry));
    }

    /** ELF notes: namesz, descsz, type, then name and desc each padded to 4 bytes (gABI "Note Section"). */
    private static OptionalLong findPvhEntry(ByteBuffer notes) {
        int at = 0;
        while (notes.limit() - at >= 12) {
            long nameSize = Integer.toUnsignedLong(notes.getInt(at));
            long descSize = Integer.toUnsignedLong(notes.getInt(at + 4));
            int type = notes.getInt(at + 8);
            long nameAt = at + 12L, descAt = nameAt + align4(nameSize), next = descAt + align4(descSize);
            if (next > notes.limit()) break; // malformed tail: ignore, as the kernel itself would
            if (type == XEN_ELFNOTE_PHYS32_ENTRY && nameSize == XEN_NOTE_NAME.length
                    && notes.slice((int) nameAt, XEN_NOTE_NAME.length).equals(ByteBuffer.wrap(XEN_NOTE_NAME))) {
                // Linux emits the address with _ASM_PTR (8 bytes on x86-64); Xen accepts 4 or 8.
                if (descSize == 4) return OptionalLong.of(Integer.toUnsignedLong(notes.getInt((int) descAt)));
                if (descSize == 8) return OptionalLong.of(notes.getLong((int) descAt));
            }
            at = (int) next;
        }
        return OptionalLong.empty();
    }

    private static long align4(long n) {
        return (n + 3) & ~3L;
    }

    /** Copies every segment into guest RAM and zeroes its bss; the caller has checked that it fits. */
    void load(ImageFile file, GuestMemory memory) {
        for (Segment s : segments) {
            file.copyTo(memory, s.physAddress(), s.offset(), s.fileSize());
            memory.fill(s.physAddress() + s.fileSize(), s.memSize() - s.fileSize(), (byte) 0);
        }
    }

    public List<Segment> segments() {
        return segments;
    }

    /** Physical address of the 64-bit entry (startup_64). */
    public long entry() {
        return entry;
    }

    /** Physical address of the 32-bit PVH entry, if the kernel has one. */
    public OptionalLong pvhEntry() {
        return pvhEntry;
    }

    /** Lowest physical address any segment occupies. */
    public long physStart() {
        return segments.stream().mapToLong(Segment::physAddress).min().orElseThrow();
    }

    /** End (exclusive) of the highest segment, bss included. */
    public long physEnd() {
        return segments.stream().mapToLong(Segment::physEnd).max().orElseThrow();
    }
}
