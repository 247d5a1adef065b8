package io.jkvm.boot.acpi;

/**
 * Root System Description Pointer, revision 2 (ACPI 6.4 §5.2.5.3), 36 bytes: "RSD PTR ", checksum of the
 * first 20 bytes, OEMID, revision 2, RsdtAddress (0: no RSDT), length 36, XsdtAddress, extended checksum of
 * all 36 bytes, 3 reserved. An OS finds it on a 16-byte boundary (§5.2.5.1) or through the boot protocol.
 */
record Rsdp(long xsdtAddress) {
    static final int LENGTH = 36;
    static final int REVISION = 2;
    static final int ALIGNMENT = 16;
    private static final int CHECKSUM_OFFSET = 8;
    private static final int ACPI_1_LENGTH = 20;
    private static final int EXTENDED_CHECKSUM_OFFSET = 32;

    byte[] toBytes() {
        ByteWriter b = new ByteWriter();
        b.bytes(SystemDescriptionTable.ascii("RSD PTR ", 8)).u8(0)
                .bytes(SystemDescriptionTable.ascii(SystemDescriptionTable.OEM_ID, 6)).u8(REVISION)
                .u32(0).u32(LENGTH).u64(xsdtAddress).u8(0).u8(0).u8(0).u8(0);
        byte[] rsdp = b.toByteArray();
        AcpiChecksum.fix(rsdp, 0, ACPI_1_LENGTH, CHECKSUM_OFFSET);
        AcpiChecksum.fix(rsdp, 0, LENGTH, EXTENDED_CHECKSUM_OFFSET);
        return rsdp;
    }
}
