package io.jkvm.devices.virtio.vsock;

import java.nio.charset.StandardCharsets;

/**
 * The first line a host program writes on the device's Unix socket, Firecracker's hybrid vsock protocol
 * (docs/vsock.md): {@code CONNECT <port>\n}, port a decimal u32, the guest port to connect to. Fed one byte
 * at a time, so that no byte after the newline (stream data for the guest) is consumed.
 */
final class ConnectLine {
    /** "CONNECT 4294967295\n" is 19 bytes; anything longer is not a connect line. */
    static final int MAX_LENGTH = 32;
    private static final String PREFIX = "CONNECT ";

    private final byte[] line = new byte[MAX_LENGTH];
    private int length;
    /** {@link System#nanoTime()} by which the line must be complete. */
    final long deadline;

    ConnectLine(long deadline) {
        this.deadline = deadline;
    }

    /** The outcome of one byte: more needed, a port, or a malformed line. */
    static final long MORE = -1, MALFORMED = -2;

    /** Adds one byte; returns {@link #MORE}, {@link #MALFORMED} or the requested port (0 to 2^32-1). */
    long add(byte b) {
        if (b != '\n') {
            if (length == MAX_LENGTH) return MALFORMED;
            line[length++] = b;
            return MORE;
        }
        return parse(new String(line, 0, length, StandardCharsets.US_ASCII));
    }

    static long parse(String text) {
        if (!text.startsWith(PREFIX)) return MALFORMED;
        String digits = text.substring(PREFIX.length()).trim();
        if (digits.isEmpty() || digits.length() > 10 || !digits.chars().allMatch(Character::isDigit)) return MALFORMED;
        long port = Long.parseLong(digits);
        return port <= 0xffff_ffffL ? port : MALFORMED;
    }

    /** The answer once the guest accepted: {@code OK <host-port>\n}. */
    static byte[] ok(long hostPort) {
        return ("OK " + hostPort + "\n").getBytes(StandardCharsets.US_ASCII);
    }
}
