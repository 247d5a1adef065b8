package io.jkvm.boot.acpi;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** AML data objects and name references: what Name(), Package elements and Return() take (ACPI 6.4 §20.2.3). */
public sealed interface AmlData extends AmlTerm {

    /**
     * An integer in its shortest encoding (ACPI 6.4 §20.2.3): ZeroOp, OneOp, OnesOp (all 64 bits set; jkvm's
     * DSDT is revision 2, so integers are 64-bit), else BytePrefix, WordPrefix, DWordPrefix or QWordPrefix
     * with the value little-endian. {@code value} is read as unsigned.
     */
    record IntegerConst(long value) implements AmlData {
        @Override
        public void encode(ByteWriter out) {
            if (value == 0) out.u8(AmlOp.ZERO);
            else if (value == 1) out.u8(AmlOp.ONE);
            else if (value == -1L) out.u8(AmlOp.ONES);
            else if ((value & ~0xFFL) == 0) out.u8(AmlOp.BYTE_PREFIX).u8((int) value);
            else if ((value & ~0xFFFFL) == 0) out.u8(AmlOp.WORD_PREFIX).u16((int) value);
            else if ((value & ~0xFFFF_FFFFL) == 0) out.u8(AmlOp.DWORD_PREFIX).u32(value);
            else out.u8(AmlOp.QWORD_PREFIX).u64(value);
        }
    }

    /** A string: StringPrefix, ASCII characters 0x01-0x7F, NullChar (§20.2.3). */
    record StringConst(String value) implements AmlData {
        public StringConst {
            for (char c : value.toCharArray())
                if (c < 0x01 || c > 0x7F) throw new IllegalArgumentException("AML strings are ASCII without NUL: " + value);
        }

        @Override
        public void encode(ByteWriter out) {
            out.u8(AmlOp.STRING_PREFIX).bytes(value.getBytes(StandardCharsets.US_ASCII)).u8(0);
        }
    }

    /**
     * A buffer: DefBuffer := BufferOp PkgLength BufferSize ByteList, BufferSize an integer term
     * (§20.2.5.4). The size is the byte list's length.
     */
    record BufferConst(byte[] bytes) implements AmlData {
        public BufferConst {
            bytes = bytes.clone();
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        @Override
        public void encode(ByteWriter out) {
            ByteWriter content = new ByteWriter();
            new IntegerConst(bytes.length).encode(content);
            content.bytes(bytes);
            out.u8(AmlOp.BUFFER).withPkgLength(content.toByteArray());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BufferConst b && Arrays.equals(bytes, b.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "BufferConst" + Arrays.toString(bytes);
        }
    }

    /** A package: DefPackage := PackageOp PkgLength NumElements(byte) PackageElementList (§20.2.5.4). */
    record PackageConst(List<AmlData> elements) implements AmlData {
        public PackageConst {
            elements = List.copyOf(elements);
            if (elements.size() > 255)
                throw new IllegalArgumentException("a Package holds at most 255 elements (VarPackage is not supported)");
        }

        @Override
        public void encode(ByteWriter out) {
            ByteWriter content = new ByteWriter();
            content.u8(elements.size());
            for (AmlData e : elements) e.encode(content);
            out.u8(AmlOp.PACKAGE).withPkgLength(content.toByteArray());
        }
    }

    /** A reference to a named object, encoded as its NameString (§20.2.2). */
    record NameRef(String path) implements AmlData {
        public NameRef {
            NameString.encode(path);
        }

        @Override
        public void encode(ByteWriter out) {
            out.bytes(NameString.encode(path));
        }
    }
}
