package io.jkvm.boot.initramfs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Test-side newc parser, written from buffer-format.rst, checking magic and 4-byte alignment. */
final class NewcReader {
    record Entry(String name, long inode, int mode, long links, long rdevMajor, long rdevMinor, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }

        FileType type() {
            return FileType.ofMode(mode);
        }

        int permissions() {
            return mode & 0_7777;
        }
    }

    /** All entries including the trailer. */
    static List<Entry> read(byte[] archive) {
        List<Entry> entries = new ArrayList<>();
        int pos = 0;
        while (true) {
            assertEquals(0, pos % 4, "entry not 4-byte aligned");
            assertEquals("070701", ascii(archive, pos, 6), "magic at " + pos);
            long[] f = new long[13];
            for (int i = 0; i < 13; i++) f[i] = Long.parseLong(ascii(archive, pos + 6 + 8 * i, 8), 16);
            int nameSize = (int) f[11];
            int nameStart = pos + 110;
            assertEquals(0, archive[nameStart + nameSize - 1], "name NUL");
            String name = new String(archive, nameStart, nameSize - 1, StandardCharsets.UTF_8);
            int dataStart = align(nameStart + nameSize);
            int size = (int) f[6];
            byte[] data = Arrays.copyOfRange(archive, dataStart, dataStart + size);
            entries.add(new Entry(name, f[0], (int) f[1], f[4], f[9], f[10], data));
            pos = align(dataStart + size);
            if (name.equals("TRAILER!!!")) {
                assertEquals(archive.length, pos, "bytes after the trailer");
                return entries;
            }
        }
    }

    private static int align(int n) {
        return (n + 3) & ~3;
    }

    private static String ascii(byte[] b, int off, int len) {
        return new String(b, off, len, StandardCharsets.US_ASCII);
    }
}
