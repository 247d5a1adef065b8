package io.jkvm.boot.acpi;

import static io.jkvm.boot.acpi.Aml.device;
import static io.jkvm.boot.acpi.Aml.eisaId;
import static io.jkvm.boot.acpi.Aml.integer;
import static io.jkvm.boot.acpi.Aml.method;
import static io.jkvm.boot.acpi.Aml.name;
import static io.jkvm.boot.acpi.Aml.nameRef;
import static io.jkvm.boot.acpi.Aml.pkg;
import static io.jkvm.boot.acpi.Aml.resourceTemplate;
import static io.jkvm.boot.acpi.Aml.returnValue;
import static io.jkvm.boot.acpi.Aml.scope;
import static io.jkvm.boot.acpi.Aml.string;
import static io.jkvm.boot.acpi.Bytes.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jkvm.boot.acpi.ResourceDescriptor.ExtendedInterrupt;
import io.jkvm.boot.acpi.ResourceDescriptor.IoPort;
import io.jkvm.boot.acpi.ResourceDescriptor.Memory32Fixed;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Expected bytes are worked out by hand from ACPI 6.4 §20 (AML) and §6.4 (resource descriptors). */
class AmlEncodingTest {

    private static void assertBytes(String expectedHex, byte[] actual) {
        assertEquals(hex(hex(expectedHex)), hex(actual));
    }

    private static void assertBytes(String expectedHex, AmlTerm term) {
        assertBytes(expectedHex, term.toBytes());
    }

    @Test
    void pkgLengthCountsItselfAndGrowsAtTheFieldLimits() {
        // 1 byte: bits 5:0 hold content + 1, up to 63.
        assertBytes("01", PkgLength.encode(0));
        assertBytes("3F", PkgLength.encode(62));
        // 63 + 2 = 65 = 0x41: lead 0b01 << 6 | 0x1 = 0x41, then 0x41 >> 4 = 0x04.
        assertBytes("41 04", PkgLength.encode(63));
        // 4093 + 2 = 0xFFF, the 12-bit maximum: lead 0x4F, then 0xFF.
        assertBytes("4F FF", PkgLength.encode(4093));
        // 4094 + 3 = 0x1001: lead 0b10 << 6 | 0x1 = 0x81, then 0x00, 0x01.
        assertBytes("81 00 01", PkgLength.encode(4094));
        // 0xFFFFC + 3 = 0xFFFFF, the 20-bit maximum.
        assertBytes("8F FF FF", PkgLength.encode(0xFFFFC));
        // 0xFFFFD + 4 = 0x100001: lead 0b11 << 6 | 0x1 = 0xC1, then 0x00 0x00 0x01.
        assertBytes("C1 00 00 01", PkgLength.encode(0xFFFFD));
        // 0xFFFFFFB + 4 = 0xFFFFFFF, the 28-bit maximum; one more does not fit.
        assertBytes("CF FF FF FF", PkgLength.encode(0xFFFFFFB));
        assertThrows(IllegalArgumentException.class, () -> PkgLength.encode(0xFFFFFFC));
    }

    @Test
    void integersUseTheShortestEncoding() {
        assertBytes("00", integer(0));                           // ZeroOp
        assertBytes("01", integer(1));                           // OneOp
        assertBytes("FF", integer(-1));                          // OnesOp (64-bit in a revision-2 DSDT)
        assertBytes("0A 02", integer(2));                        // BytePrefix
        assertBytes("0A FF", integer(0xFF));
        assertBytes("0B 00 01", integer(0x100));                 // WordPrefix, little-endian
        assertBytes("0B FF FF", integer(0xFFFF));
        assertBytes("0C 00 00 01 00", integer(0x10000));         // DWordPrefix
        assertBytes("0C FF FF FF FF", integer(0xFFFF_FFFFL));
        assertBytes("0E 00 00 00 00 01 00 00 00", integer(0x1_0000_0000L)); // QWordPrefix
        assertBytes("0E FE FF FF FF FF FF FF FF", integer(-2));
    }

    @Test
    void nameStrings() {
        assertBytes("5F 53 35 5F", NameString.encode("_S5"));                       // padded with '_'
        assertBytes("43 4F 4D 31", NameString.encode("COM1"));
        assertBytes("5C 5F 53 42 5F", NameString.encode("\\_SB"));                  // RootChar + NameSeg
        assertBytes("5C 00", NameString.encode("\\"));                              // RootChar + NullName
        assertBytes("5E 5E 46 4F 4F 5F", NameString.encode("^^FOO"));              // two ParentPrefixChars
        assertBytes("5C 2E 5F 53 42 5F 43 4F 4D 31", NameString.encode("\\_SB.COM1")); // DualNamePrefix
        assertBytes("2F 03 41 5F 5F 5F 42 5F 5F 5F 43 5F 5F 5F", NameString.encode("A.B.C")); // MultiNamePrefix, 3
        for (String bad : List.of("com1", "TOOLONG", "1ABC", "A..B", "\\^A", "A.", "AB-C"))
            assertThrows(IllegalArgumentException.class, () -> NameString.encode(bad), bad);
    }

    @Test
    void eisaIds() {
        // 'P'=0x10 'N'=0x0E 'P'=0x10 -> 0 10000 01110 10000 = 0x41D0; bytes 41 D0 05 01 read little-endian.
        assertEquals(0x0105D041L, EisaId.encode("PNP0501"));
        assertEquals(0x030AD041L, EisaId.encode("PNP0A03"));
        // 'Q'=0x11 'E'=0x05 'M'=0x0D -> 0 10001 00101 01101 = 0x44AD; bytes 44 AD 00 01.
        assertEquals(0x0100AD44L, EisaId.encode("QEM0001"));
        assertThrows(IllegalArgumentException.class, () -> EisaId.encode("pnp0501"));
        assertThrows(IllegalArgumentException.class, () -> EisaId.encode("PNP050"));
        assertThrows(IllegalArgumentException.class, () -> EisaId.encode("PNP050G"));
    }

    @Test
    void strings() {
        assertBytes("0D 4C 4E 52 4F 30 30 30 35 00", string("LNRO0005")); // StringPrefix, ASCII, NullChar
        assertBytes("0D 00", string(""));
        assertThrows(IllegalArgumentException.class, () -> string("é"));
    }

    @Test
    void nameWithEisaIdInsideADevice() {
        // Name(_HID, EISAID("PNP0501")) = 08 '_HID' 0C 41 D0 05 01 (10 bytes); with 'COM1' the content is 14,
        // so PkgLength = 15 = 0x0F. DeviceOp = 5B 82.
        assertBytes("5B 82 0F 43 4F 4D 31 08 5F 48 49 44 0C 41 D0 05 01",
                device("COM1", name("_HID", eisaId("PNP0501"))));
    }

    @Test
    void scopeWithRootPath() {
        // ScopeOp 10, content '\_SB_' = 5 bytes, PkgLength 6.
        assertBytes("10 06 5C 5F 53 42 5F", scope("\\_SB"));
    }

    @Test
    void methodReturningAnInteger() {
        // Method(_STA, 0, NotSerialized) { Return(0x0F) }: '_STA' 4 + flags 1 + A4 0A 0F 3 = 8, PkgLength 9.
        assertBytes("14 09 5F 53 54 41 00 A4 0A 0F", method("_STA", 0, false, returnValue(integer(0x0F))));
        // Serialized with 2 arguments: flags = 0b0000_1010; Return(FOO_) is a bare NameString.
        // Content 'TEST' 4 + flags 1 + A4 'FOO_' 5 = 10, PkgLength 11 = 0x0B.
        assertBytes("14 0B 54 45 53 54 0A A4 46 4F 4F 5F",
                method("TEST", 2, true, returnValue(nameRef("FOO"))));
    }

    @Test
    void sleepPackage() {
        // Package(){5, 0, 0, 0}: NumElements 04, 0A 05, 00, 00, 00 = 6 bytes content, PkgLength 7.
        assertBytes("08 5F 53 35 5F 12 07 04 0A 05 00 00 00", name("_S5", pkg(integer(5), integer(0), integer(0), integer(0))));
    }

    @Test
    void bufferWhoseLengthNeedsATwoBytePkgLength() {
        byte[] data = new byte[62];
        for (int i = 0; i < data.length; i++) data[i] = (byte) i;
        // BufferSize 0A 3E (2 bytes) + 62 data = 64 content; 64 + 2 = 66 = 0x42 -> PkgLength 42 04.
        byte[] encoded = Aml.buffer(data).toBytes();
        assertBytes("11 42 04 0A 3E", java.util.Arrays.copyOf(encoded, 5));
        assertEquals(5 + 62, encoded.length);
        assertEquals(61, encoded[encoded.length - 1]);
    }

    @Test
    void serialPortResourceTemplate() {
        // IO(Decode16, 0x3F8, 0x3F8, 0x01, 0x08): 47, info 01 (16-bit decode), min F8 03, max F8 03, align 01, len 08.
        // Interrupt(ResourceConsumer, Edge, ActiveHigh, Exclusive) {4}: 89, length 06 00,
        //   flags 0b0011 (consumer | edge), count 01, GSI 04 00 00 00.
        // End Tag 79 00. Descriptors: 8 + 9 + 2 = 19 = 0x13 bytes.
        // Buffer: 11, PkgLength over (0A 13 + 19 bytes = 21) -> 22 = 0x16, BufferSize 0A 13.
        assertBytes("11 16 0A 13  47 01 F8 03 F8 03 01 08  89 06 00 03 01 04 00 00 00  79 00",
                resourceTemplate(IoPort.fixed(0x3F8, 8), ExtendedInterrupt.of(4, InterruptTrigger.EDGE, InterruptPolarity.ACTIVE_HIGH)));
    }

    @Test
    void memory32FixedAndSharedLevelLowInterrupt() {
        // Memory32Fixed(ReadWrite, 0xD0000000, 0x1000): 86, length 09 00, info 01, base 00 00 00 D0, len 00 10 00 00.
        // Interrupt(ResourceConsumer, Level, ActiveLow, Shared) {5, 33}: 89, length 0A 00 (2 + 2*4),
        //   flags 0b1101 = 0x0D, count 02, 05 00 00 00, 21 00 00 00.
        // Total 12 + 13 + 2 = 27 = 0x1B; Buffer content 2 + 27 = 29, PkgLength 30 = 0x1E.
        assertBytes("11 1E 0A 1B  86 09 00 01 00 00 00 D0 00 10 00 00  89 0A 00 0D 02 05 00 00 00 21 00 00 00  79 00",
                resourceTemplate(new Memory32Fixed(true, 0xD000_0000L, 0x1000),
                        new ExtendedInterrupt(InterruptTrigger.LEVEL, InterruptPolarity.ACTIVE_LOW, true, List.of(5, 33))));
        // Read-only (info 00); descriptors 12 + 2 = 14 = 0x0E, Buffer content 16, PkgLength 17 = 0x11.
        assertBytes("11 11 0A 0E  86 09 00 00 00 00 00 D0 00 10 00 00  79 00",
                resourceTemplate(new Memory32Fixed(false, 0xD000_0000L, 0x1000)));
        assertThrows(IllegalArgumentException.class, () -> new Memory32Fixed(true, 0x1_0000_0000L, 0x1000));
    }
}
