package io.jkvm.boot.acpi;

/**
 * AML PkgLength (ACPI 6.4 §20.2.4): the length of a package <em>including the PkgLength bytes
 * themselves</em>, in 1 to 4 bytes. The lead byte's bits 7:6 count the bytes that follow. With none
 * follow, bits 5:0 hold the length (up to 63); otherwise bits 3:0 hold its low nibble and each following
 * byte the next 8 bits, so 2, 3 and 4 bytes reach 12, 20 and 28 bits.
 */
final class PkgLength {
    private PkgLength() {}

    /** The PkgLength for a package whose content after the PkgLength is {@code contentLength} bytes. */
    static byte[] encode(int contentLength) {
        if (contentLength < 0) throw new IllegalArgumentException("negative length " + contentLength);
        if (contentLength + 1 <= 0x3F) return new byte[] {(byte) (contentLength + 1)};
        for (int n = 2; n <= 4; n++) {
            long total = (long) contentLength + n;
            if (total < 1L << (4 + 8 * (n - 1))) {
                byte[] out = new byte[n];
                out[0] = (byte) ((n - 1) << 6 | (total & 0xF));
                for (int i = 1; i < n; i++) out[i] = (byte) (total >>> (4 + 8 * (i - 1)));
                return out;
            }
        }
        throw new IllegalArgumentException("AML package too long: " + contentLength + " bytes (max 2^28 - 5)");
    }
}
