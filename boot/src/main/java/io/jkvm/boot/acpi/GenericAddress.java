package io.jkvm.boot.acpi;

/**
 * Generic Address Structure (ACPI 6.4 §5.2.3.2), 12 bytes: Address Space ID, Register Bit Width, Register
 * Bit Offset, Access Size (1 byte, 2 word, 3 dword, 4 qword), Address (64-bit).
 */
record GenericAddress(int spaceId, int bitWidth, int bitOffset, int accessSize, long address) {
    static final int SYSTEM_IO = 1;
    static final int ACCESS_BYTE = 1;
    static final GenericAddress NONE = new GenericAddress(0, 0, 0, 0, 0);

    /** An 8-bit register at I/O port {@code port}, accessed a byte at a time. */
    static GenericAddress ioByte(int port) {
        if (port < 0 || port > 0xFFFF) throw new IllegalArgumentException(String.format("bad I/O port %#x", port));
        return new GenericAddress(SYSTEM_IO, 8, 0, ACCESS_BYTE, port);
    }

    void encode(ByteWriter out) {
        out.u8(spaceId).u8(bitWidth).u8(bitOffset).u8(accessSize).u64(address);
    }
}
