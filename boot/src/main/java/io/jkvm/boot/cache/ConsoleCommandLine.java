package io.jkvm.boot.cache;

import io.jkvm.boot.initramfs.Initramfs;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/**
 * The line the host types on the guest's console for an /init waiting after {@link Initramfs#READY_MARKER}
 * ({@link Initramfs#COMMAND_FROM_VARIABLE}{@code =console}): {@code SECONDS BASE64\n}, the host's time in
 * whole epoch seconds (rounded, so the guest is at most half a second off) and the command in base64, whose
 * alphabet has no byte a terminal interprets (no control character, no erase or interrupt key).
 */
public final class ConsoleCommandLine {
    /**
     * The longest line a terminal in canonical mode takes: N_TTY_BUF_SIZE (4096, drivers/tty/n_tty.c)
     * less one byte for the newline; beyond that n_tty drops bytes.
     */
    public static final int MAX_LINE = 4095;

    private ConsoleCommandLine() {}

    /**
     * The line for {@code command} at time {@code now}.
     *
     * @throws IllegalArgumentException the line would be longer than {@link #MAX_LINE} (a command of about 3 KiB)
     */
    public static byte[] encode(Instant now, String command) {
        long seconds = Math.floorDiv(now.toEpochMilli() + 500, 1000);
        String line = seconds + " " + Base64.getEncoder().encodeToString(command.getBytes(StandardCharsets.UTF_8));
        if (line.length() > MAX_LINE)
            throw new IllegalArgumentException("the boot cache passes the command through the console, and "
                    + command.getBytes(StandardCharsets.UTF_8).length + " bytes of command make a line longer than "
                    + MAX_LINE + " bytes; use a shorter command (or a script on a disk)");
        return (line + "\n").getBytes(StandardCharsets.US_ASCII);
    }
}
