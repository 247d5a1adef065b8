package io.jkvm.boot.acpi;

import java.nio.charset.StandardCharsets;

/**
 * The 36-byte System Description Table Header every table but the RSDP starts with (ACPI 6.4 §5.2.6):
 * Signature(4) Length(4) Revision(1) Checksum(1) OEMID(6) OEM Table ID(8) OEM Revision(4) Creator ID(4)
 * Creator Revision(4).
 */
final class SystemDescriptionTable {
    static final int HEADER_LENGTH = 36;
    static final int CHECKSUM_OFFSET = 9;
    /** jkvm's OEMID, also in the RSDP. */
    static final String OEM_ID = "JKVM  ";
    private static final int OEM_REVISION = 1;
    private static final String CREATOR_ID = "JKVM";
    private static final int CREATOR_REVISION = 1;

    private SystemDescriptionTable() {}

    /** The whole table: header (with length and checksum) followed by {@code body}. */
    static byte[] build(String signature, int revision, String oemTableId, byte[] body) {
        ByteWriter out = new ByteWriter();
        out.bytes(ascii(signature, 4)).u32(HEADER_LENGTH + body.length).u8(revision).u8(0)
                .bytes(ascii(OEM_ID, 6)).bytes(ascii(oemTableId, 8)).u32(OEM_REVISION)
                .bytes(ascii(CREATOR_ID, 4)).u32(CREATOR_REVISION).bytes(body);
        byte[] table = out.toByteArray();
        AcpiChecksum.fix(table, 0, table.length, CHECKSUM_OFFSET);
        return table;
    }

    static byte[] ascii(String s, int length) {
        if (s.length() != length) throw new IllegalArgumentException("'" + s + "' must be " + length + " characters");
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
