package io.jkvm.boot.loader;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class SmallPartsTest {
    @Test
    void memorySizeParsesBinarySuffixes() {
        assertEquals(256L << 20, MemorySize.parse("256M"));
        assertEquals(256L << 20, MemorySize.parse("256m"));
        assertEquals(1L << 30, MemorySize.parse("1G"));
        assertEquals(2L << 30, MemorySize.parse("2GiB"));
        assertEquals(64L << 10, MemorySize.parse("64K"));
        assertEquals(4096, MemorySize.parse("4096"));
        assertEquals(512L << 20, MemorySize.parse(" 512 MB "));
        assertEquals(((1L << 33) - 1) << 30, MemorySize.parse("8589934591G"), "largest G that fits");
    }

    @Test
    void memorySizeRejectsGarbageZeroNegativeAndOverflow() {
        for (String bad : List.of("", "abc", "12Q", "1.5G", "M", "0x100", "1G2")) {
            assertTrue(assertThrows(BootConfigException.class, () -> MemorySize.parse(bad)).getMessage()
                    .contains("is not a size"), bad);
        }
        assertEquals("memory size '0M' is zero", assertThrows(BootConfigException.class, () -> MemorySize.parse("0M")).getMessage());
        assertEquals("memory size '-1G' is negative", assertThrows(BootConfigException.class, () -> MemorySize.parse("-1G")).getMessage());
        assertTrue(assertThrows(BootConfigException.class, () -> MemorySize.parse("8589934592G")).getMessage().contains("too large"));
        assertTrue(assertThrows(BootConfigException.class, () -> MemorySize.parse("99999999999999999999")).getMessage().contains("too large"));
        assertThrows(BootConfigException.class, () -> MemorySize.parse(null));
    }

    @Test
    void memorySizeFormatsInTheLargestExactUnit() {
        assertEquals("256 MiB", MemorySize.format(256L << 20));
        assertEquals("1536 KiB", MemorySize.format(1536L << 10));
        assertEquals("3 GiB", MemorySize.format(3L << 30));
        assertEquals("1000 bytes", MemorySize.format(1000));
    }

    @Test
    void cmdlineJoinsItemsAndChecksLength() {
        Cmdline c = new Cmdline().add("console=ttyS0").add("  ").add("quiet panic=-1").addAll(List.of("noxsave"));
        assertEquals("console=ttyS0 quiet panic=-1 noxsave", c.toString());
        byte[] bytes = c.encode(100);
        assertEquals(c.toString().length() + 1, bytes.length);
        assertEquals(0, bytes[bytes.length - 1]);
        assertEquals(c.toString().length(), c.encode(c.toString().length()).length - 1);
        assertThrows(BootConfigException.class, () -> c.encode(c.toString().length() - 1));
        assertTrue(assertThrows(BootConfigException.class, () -> new Cmdline().add("a\0b")).getMessage().contains("NUL"));
        assertThrows(BootConfigException.class, () -> Cmdline.encode("x\0", 100));
        assertEquals(3, Cmdline.encode("é", 2).length, "length counts bytes, not chars");
        assertThrows(BootConfigException.class, () -> Cmdline.encode("é", 1));
    }
}
