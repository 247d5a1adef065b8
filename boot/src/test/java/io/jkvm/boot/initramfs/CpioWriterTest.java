package io.jkvm.boot.initramfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpioWriterTest {
    private interface Body {
        void write(CpioWriter w) throws IOException;
    }

    private static byte[] archive(Body body) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (CpioWriter w = new CpioWriter(out)) {
            body.write(w);
        }
        return out.toByteArray();
    }

    private static String ascii(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    // Expected bytes written out by hand from buffer-format.rst: magic, ino, mode, uid, gid, nlink,
    // mtime, filesize, maj, min, rmaj, rmin, namesize, chksum; name + NUL; pad to 4.
    private static final String TRAILER_ENTRY = "070701" + "00000000" + "00000000" + "00000000"
            + "00000000" + "00000001" + "00000000" + "00000000" + "00000000" + "00000000"
            + "00000000" + "00000000" + "0000000B" + "00000000" + "TRAILER!!!\0";

    @Test
    void emptyArchiveIsTheTrailerPaddedToFourBytes() throws IOException {
        byte[] bytes = archive(w -> { });
        // 110 + 11 = 121 -> 124
        assertEquals(TRAILER_ENTRY + "\0\0\0", ascii(bytes));
    }

    @Test
    void directoryHeaderIsByteExact() throws IOException {
        byte[] bytes = archive(w -> w.directory("/dev", 0_755));
        String dir = "070701" + "00000001" + "000041ED" + "00000000" + "00000000" + "00000002"
                + "00000000" + "00000000" + "00000000" + "00000000" + "00000000" + "00000000"
                + "00000004" + "00000000" + "dev\0" + "\0\0"; // 110 + 4 = 114 -> 116
        assertEquals(dir + TRAILER_ENTRY + "\0\0\0", ascii(bytes));
    }

    @Test
    void fileDataIsPaddedToFourBytes() throws IOException {
        byte[] bytes = archive(w -> w.file("a", 0_644, "hi\n".getBytes(StandardCharsets.US_ASCII)));
        String file = "070701" + "00000001" + "000081A4" + "00000000" + "00000000" + "00000001"
                + "00000000" + "00000003" + "00000000" + "00000000" + "00000000" + "00000000"
                + "00000002" + "00000000" + "a\0" + "hi\n" + "\0"; // 112 needs no pad; 3 -> 4
        assertEquals(file + TRAILER_ENTRY + "\0\0\0", ascii(bytes));
    }

    @Test
    void symlinkCarriesItsTargetAsData() throws IOException {
        List<NewcReader.Entry> e = NewcReader.read(archive(w -> w.symlink("bin/sh", "busybox")));
        assertEquals("bin/sh", e.get(0).name());
        assertEquals(0_120777, e.get(0).mode());
        assertEquals("busybox", e.get(0).text());
    }

    @Test
    void deviceNumbersGoToTheRdevFields() throws IOException {
        byte[] bytes = archive(w -> {
            w.characterDevice("dev/console", 0_600, 5, 1);
            w.blockDevice("dev/vda", 0_660, 254, 0x12345);
        });
        String console = ascii(bytes).substring(0, 110);
        assertEquals("070701" + "00000001" + "00002180" + "00000000" + "00000000" + "00000001"
                + "00000000" + "00000000" + "00000000" + "00000000" + "00000005" + "00000001"
                + "0000000C" + "00000000", console);
        NewcReader.Entry vda = NewcReader.read(bytes).get(1);
        assertEquals(FileType.BLOCK_DEVICE, vda.type());
        assertEquals(254, vda.rdevMajor());
        assertEquals(0x12345, vda.rdevMinor());
    }

    @Test
    void everyNameLengthKeepsEntriesAligned() throws IOException {
        byte[] bytes = archive(w -> {
            for (int len = 1; len <= 9; len++) {
                w.file("f".repeat(len), 0_644, new byte[len % 5]);
            }
        });
        List<NewcReader.Entry> entries = NewcReader.read(bytes); // asserts alignment and magic
        assertEquals(10, entries.size());
        for (int len = 1; len <= 9; len++) {
            assertEquals("f".repeat(len), entries.get(len - 1).name());
            assertEquals(len % 5, entries.get(len - 1).data().length);
            assertEquals(len, entries.get(len - 1).inode(), "distinct inode numbers");
        }
    }

    @Test
    void fileFromPathIsStreamedUnchanged(@TempDir Path tmp) throws IOException {
        byte[] content = new byte[200_003];
        for (int i = 0; i < content.length; i++) content[i] = (byte) (i * 31 + 7);
        Path source = Files.write(tmp.resolve("blob"), content);
        NewcReader.Entry e = NewcReader.read(archive(w -> w.file("blob", 0_700, source))).get(0);
        assertEquals(0_100700, e.mode());
        assertArrayEquals(content, e.data());
    }

    @Test
    void rejectsWhatTheFormatCannotCarry() throws IOException {
        CpioWriter w = new CpioWriter(new ByteArrayOutputStream());
        assertThrows(IllegalArgumentException.class, () -> w.directory("d", 0_40755));
        assertThrows(IllegalArgumentException.class, () -> w.directory("/", 0_755));
        assertThrows(IllegalArgumentException.class, () -> w.file("TRAILER!!!", 0_644, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> w.characterDevice("c", 0_600, 1L << 32, 0));
        assertThrows(IllegalArgumentException.class, () -> w.symlink("l", ""));
        w.finish();
        assertThrows(IllegalStateException.class, () -> w.directory("late", 0_755));
    }
}
