package io.jkvm.boot.acpi;

/**
 * A compressed EISA id such as {@code PNP0501}, as ASL's {@code EISAID()} makes it (ACPI 6.4 §19.6.35):
 * three upper-case letters packed 5 bits each ({@code 'A'} = 1) into bits 14:0 of a 16-bit big-endian
 * vendor word, then four hex digits as a big-endian product word. The 4 bytes in that order, read as a
 * little-endian DWORD, are the integer: {@code PNP0501} is {@code 0x0105D041}.
 */
final class EisaId {
    private EisaId() {}

    static long encode(String id) {
        if (!id.matches("[A-Z]{3}[0-9A-F]{4}"))
            throw new IllegalArgumentException("EISA id must be 3 upper-case letters and 4 hex digits: " + id);
        int vendor = (id.charAt(0) - 0x40) << 10 | (id.charAt(1) - 0x40) << 5 | (id.charAt(2) - 0x40);
        int product = Integer.parseInt(id.substring(3), 16);
        return (vendor >>> 8) | (vendor & 0xFF) << 8 | (long) (product >>> 8) << 16 | (long) (product & 0xFF) << 24;
    }
}
