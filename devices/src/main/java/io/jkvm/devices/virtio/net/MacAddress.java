package io.jkvm.devices.virtio.net;

import java.util.HexFormat;

/** A unicast Ethernet (EUI-48) address, the {@code mac} field of virtio-net's configuration (virtio 1.2 §5.1.4). */
public record MacAddress(long value) {
    public static final int BYTES = 6;
    /** IEEE 802: bit 0 of the first octet set means a group (multicast) address. */
    private static final long GROUP_BIT = 1L << 40;

    public MacAddress {
        if ((value >>> 48) != 0) throw new IllegalArgumentException("a MAC address has 48 bits: " + Long.toHexString(value));
        if ((value & GROUP_BIT) != 0) throw new IllegalArgumentException("MAC " + format(value) + " is a multicast address");
    }

    /** Parses {@code 02:00:00:00:00:01} (six two-digit hex octets separated by colons). */
    public static MacAddress parse(String text) {
        String[] octets = text.split(":", -1);
        if (octets.length != BYTES) throw new IllegalArgumentException("MAC must be six hex octets like 02:00:00:00:00:01: '" + text + "'");
        long value = 0;
        for (String octet : octets) {
            if (octet.length() != 2 || !octet.chars().allMatch(c -> Character.digit(c, 16) >= 0))
                throw new IllegalArgumentException("MAC must be six hex octets like 02:00:00:00:00:01: '" + text + "'");
            value = value << 8 | Integer.parseInt(octet, 16);
        }
        return new MacAddress(value);
    }

    /** Octet {@code i}, in transmission order. */
    public int octet(int i) {
        return (int) (value >>> (8 * (BYTES - 1 - java.util.Objects.checkIndex(i, BYTES)))) & 0xff;
    }

    @Override
    public String toString() {
        return format(value);
    }

    private static String format(long value) {
        String hex = HexFormat.of().toHexDigits(value).substring(4);
        return String.join(":", hex.split("(?<=\\G..)"));
    }
}
