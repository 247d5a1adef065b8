package io.jkvm.boot.acpi;

/** ACPI table checksums (ACPI 6.4 §5.2.5.3, §5.2.6): the bytes covered sum to zero modulo 256. */
final class AcpiChecksum {
    private AcpiChecksum() {}

    static int sum(byte[] bytes, int offset, int length) {
        int sum = 0;
        for (int i = offset; i < offset + length; i++) sum += bytes[i];
        return sum & 0xFF;
    }

    /** Sets {@code bytes[checksumOffset]} so that {@code bytes[offset, offset+length)} sums to zero. */
    static void fix(byte[] bytes, int offset, int length, int checksumOffset) {
        bytes[checksumOffset] = 0;
        bytes[checksumOffset] = (byte) -sum(bytes, offset, length);
    }
}
