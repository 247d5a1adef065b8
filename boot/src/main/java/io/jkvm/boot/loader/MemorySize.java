package io.jkvm.boot.loader;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses and prints memory sizes such as {@code 256M}: binary suffixes K, M, G (optionally followed by iB or B). */
public final class MemorySize {
    private static final Pattern SIZE = Pattern.compile("([0-9]+)\\s*([KMG]?)(?:I?B)?");

    private MemorySize() {}

    /**
     * Bytes in {@code text}: a positive decimal number with an optional K/M/G suffix (powers of 1024);
     * no suffix means bytes. Rejects garbage, zero, negative numbers and sizes that overflow 64 bits.
     */
    public static long parse(String text) {
        if (text == null) throw new BootConfigException("memory size missing");
        if (text.strip().startsWith("-")) throw new BootConfigException("memory size '" + text + "' is negative");
        Matcher m = SIZE.matcher(text.trim().toUpperCase(Locale.ROOT));
        if (!m.matches())
            throw new BootConfigException("memory size '" + text + "' is not a size (expected e.g. 256M, 1G, 65536K)");
        int shift = switch (m.group(2)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            default -> 0;
        };
        long value;
        try {
            value = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new BootConfigException("memory size '" + text + "' is too large");
        }
        if (value == 0) throw new BootConfigException("memory size '" + text + "' is zero");
        if (value > (Long.MAX_VALUE >> shift)) throw new BootConfigException("memory size '" + text + "' is too large");
        return value << shift;
    }

    /** {@code bytes} in the largest binary unit that divides it exactly, e.g. "256 MiB", "1536 KiB". */
    public static String format(long bytes) {
        String[] units = {"GiB", "MiB", "KiB"};
        int[] shifts = {30, 20, 10};
        for (int i = 0; i < units.length; i++) {
            long unit = 1L << shifts[i];
            if (bytes != 0 && bytes % unit == 0) return (bytes >> shifts[i]) + " " + units[i];
        }
        return bytes + " bytes";
    }
}
