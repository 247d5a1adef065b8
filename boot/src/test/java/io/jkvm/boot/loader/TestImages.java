package io.jkvm.boot.loader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Builders for minimal kernel images: a bzImage setup header + payload, and ELF64 files. */
public final class TestImages {
    private TestImages() {}

    /** A bzImage with sensible defaults (protocol 2.15, 64-bit, relocatable, 16 MiB pref_address); setters change them. */
    public static final class BzImageBuilder {
        public int setupSects = 3;
        public int version = 0x020f;
        public int loadflags = BzImage.LOADED_HIGH;
        public int xloadflags = 0b1_0011; // XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G | XLF_5LEVEL
        public int bootFlag = BzImage.BOOT_FLAG_MAGIC;
        public int magic = BzImage.HDRS_MAGIC;
        public int jumpDisplacement = 0x6a; // header ends at 0x26c (2.15)
        public boolean relocatable = true;
        public int kernelAlignment = 0x20_0000;
        public long prefAddress = 0x100_0000;
        public int initSize = 0x40_0000;
        public int cmdlineSize = 0x7ff;
        public int initrdAddrMax = 0x7fff_ffff;
        public int payloadSize = 0x3000;
        public int syssizeExtra = 0; // positive: declare more payload than the file has

        public byte[] build() {
            int setupSize = ((setupSects == 0 ? 4 : setupSects) + 1) * 512;
            ByteBuffer b = ByteBuffer.allocate(setupSize + payloadSize).order(ByteOrder.LITTLE_ENDIAN);
            b.put(0x1f1, (byte) setupSects);
            b.putInt(0x1f4, (payloadSize + syssizeExtra + 15) / 16);
            b.putShort(0x1fa, (short) 0xffff); // vid_mode: normal
            b.putShort(0x1fe, (short) bootFlag);
            b.put(0x200, (byte) 0xeb).put(0x201, (byte) jumpDisplacement);
            b.putInt(0x202, magic);
            b.putShort(0x206, (short) version);
            b.put(0x211, (byte) loadflags);
            b.putInt(0x214, 0x100000);
            b.putInt(0x22c, initrdAddrMax);
            b.putInt(0x230, kernelAlignment);
            b.put(0x234, (byte) (relocatable ? 1 : 0));
            b.put(0x235, (byte) 21);
            b.putShort(0x236, (short) xloadflags);
            b.putInt(0x238, cmdlineSize);
            b.putLong(0x258, prefAddress);
            b.putInt(0x260, initSize);
            for (int i = 0; i < payloadSize; i++) b.put(setupSize + i, (byte) (i * 7 + 1));
            return b.array();
        }
    }

    /** One PT_LOAD segment for {@link #elf}. */
    public record Seg(long paddr, long vaddr, byte[] data, long memSize) {}

    /**
     * An ELF64 executable with the given machine, entry and PT_LOAD segments, plus (if {@code pvhEntry >= 0})
     * a PT_NOTE holding a "Xen" note of type 18 with an 8-byte descriptor.
     */
    public static byte[] elf(int machine, long entry, List<Seg> segs, long pvhEntry) {
        boolean note = pvhEntry >= 0;
        int phnum = segs.size() + (note ? 1 : 0);
        int phoff = 0x40;
        int dataOff = phoff + phnum * 56;
        // a leading unrelated note proves the parser walks the list
        byte[] notes = note ? notes(pvhEntry) : new byte[0];
        int total = dataOff + notes.length + segs.stream().mapToInt(s -> s.data().length).sum();
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x464c457f).put(4, (byte) 2).put(5, (byte) 1).put(6, (byte) 1);
        b.putShort(0x10, (short) 2).putShort(0x12, (short) machine).putInt(0x14, 1).putLong(0x18, entry);
        b.putLong(0x20, phoff).putShort(0x34, (short) 0x40).putShort(0x36, (short) 56).putShort(0x38, (short) phnum);
        int ph = phoff, data = dataOff;
        if (note) {
            b.putInt(ph, 4).putLong(ph + 8, data).putLong(ph + 32, notes.length).putLong(ph + 40, notes.length);
            b.put(data, notes);
            ph += 56;
            data += notes.length;
        }
        for (Seg s : segs) {
            b.putInt(ph, 1).putInt(ph + 4, 0b111).putLong(ph + 8, data).putLong(ph + 16, s.vaddr()).putLong(ph + 24, s.paddr())
                    .putLong(ph + 32, s.data().length).putLong(ph + 40, s.memSize()).putLong(ph + 48, 0x200000);
            b.put(data, s.data());
            ph += 56;
            data += s.data().length;
        }
        return b.array();
    }

    private static byte[] notes(long pvhEntry) {
        ByteBuffer n = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        // "GNU" build-id note, then "Xen" PHYS32_ENTRY
        n.putInt(4).putInt(4).putInt(3).put(new byte[] {'G', 'N', 'U', 0}).putInt(0xdeadbeef);
        n.putInt(4).putInt(8).putInt(18).put(new byte[] {'X', 'e', 'n', 0}).putLong(pvhEntry);
        byte[] out = new byte[n.position()];
        n.flip().get(out);
        return out;
    }

    static byte[] pattern(int size, int seed) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (i * 31 + seed);
        return b;
    }

    static Path write(Path dir, String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    public static List<Seg> segs(Seg... s) {
        return new ArrayList<>(List.of(s));
    }
}
