package io.jkvm.boot.acpi;

/** AML opcode and prefix bytes (ACPI 6.4 §20.3, AML Byte Stream Byte Values). */
final class AmlOp {
    private AmlOp() {}

    static final int ZERO = 0x00;
    static final int ONE = 0x01;
    static final int NAME = 0x08;
    static final int BYTE_PREFIX = 0x0A;
    static final int WORD_PREFIX = 0x0B;
    static final int DWORD_PREFIX = 0x0C;
    static final int STRING_PREFIX = 0x0D;
    static final int QWORD_PREFIX = 0x0E;
    static final int SCOPE = 0x10;
    static final int BUFFER = 0x11;
    static final int PACKAGE = 0x12;
    static final int METHOD = 0x14;
    static final int EXT_PREFIX = 0x5B;
    /** DeviceOp is ExtOpPrefix followed by this byte. */
    static final int DEVICE = 0x82;
    static final int RETURN = 0xA4;
    static final int ONES = 0xFF;
}
