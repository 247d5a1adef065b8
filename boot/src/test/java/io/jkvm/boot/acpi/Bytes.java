package io.jkvm.boot.acpi;

/** Test helper: bytes from a hex string such as {@code "5B 82 0F"} (whitespace ignored). */
final class Bytes {
    private Bytes() {}

    static byte[] hex(String s) {
        String h = s.replaceAll("\\s+", "");
        byte[] out = new byte[h.length() / 2];
        for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        return out;
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) sb.append(String.format("%02X ", x));
        return sb.toString().trim();
    }
}
