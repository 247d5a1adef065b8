package io.jkvm.boot.loader;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a kernel command line from items ("console=ttyS0", "quiet", ...) joined by single spaces. The
 * kernel reads it as a NUL-terminated byte string, so NUL is rejected; the length limit is the kernel's
 * (cmdline_size, boot.rst) and is checked by {@link #encode(long)}.
 */
public final class Cmdline {
    private final List<String> items = new ArrayList<>();

    /** Appends {@code item} (which may itself hold several space-separated parameters); blank items are skipped. */
    public Cmdline add(String item) {
        checkNoNul(item);
        String trimmed = item.strip();
        if (!trimmed.isEmpty()) items.add(trimmed);
        return this;
    }

    /** Appends every item. */
    public Cmdline addAll(List<String> more) {
        more.forEach(this::add);
        return this;
    }

    @Override
    public String toString() {
        return String.join(" ", items);
    }

    /**
     * {@code cmdline} as the NUL-terminated bytes the kernel reads.
     *
     * @param maxLength the most bytes allowed without the terminating NUL
     * @throws BootConfigException if it holds a NUL or is longer than {@code maxLength}
     */
    public static byte[] encode(String cmdline, long maxLength) {
        checkNoNul(cmdline);
        byte[] text = cmdline.getBytes(StandardCharsets.UTF_8);
        if (text.length > maxLength)
            throw new BootConfigException("kernel command line is " + text.length + " bytes, the kernel accepts at most "
                    + maxLength + " (cmdline_size)");
        byte[] out = new byte[text.length + 1];
        System.arraycopy(text, 0, out, 0, text.length);
        return out;
    }

    /** This command line, encoded as by {@link #encode(String, long)}. */
    public byte[] encode(long maxLength) {
        return encode(toString(), maxLength);
    }

    private static void checkNoNul(String s) {
        if (s.indexOf('\0') >= 0) throw new BootConfigException("kernel command line item contains a NUL byte: '"
                + s.replace("\0", "\\0") + "'");
    }
}
