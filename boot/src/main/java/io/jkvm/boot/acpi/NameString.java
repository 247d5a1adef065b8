package io.jkvm.boot.acpi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Encodes an ASL-style path such as {@code _S5}, {@code \_SB.COM1} or {@code ^^PCI0.ISA} as an AML
 * NameString (ACPI 6.4 §20.2.2): an optional RootChar {@code '\'} (0x5C) or ParentPrefixChars {@code '^'}
 * (0x5E), then NullName (0x00) for no segment, one NameSeg, DualNamePrefix (0x2E) and two NameSegs, or
 * MultiNamePrefix (0x2F), a segment count and that many NameSegs. A NameSeg is 4 characters, a lead
 * character {@code A-Z} or {@code _} then {@code A-Z 0-9 _}; shorter segments are padded with {@code '_'}.
 */
final class NameString {
    static final int ROOT_CHAR = 0x5C;
    static final int PARENT_PREFIX_CHAR = 0x5E;
    static final int NULL_NAME = 0x00;
    static final int DUAL_NAME_PREFIX = 0x2E;
    static final int MULTI_NAME_PREFIX = 0x2F;

    private NameString() {}

    static byte[] encode(String path) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        if (path.startsWith("\\")) {
            out.write(ROOT_CHAR);
            i = 1;
        } else {
            while (i < path.length() && path.charAt(i) == '^') {
                out.write(PARENT_PREFIX_CHAR);
                i++;
            }
        }
        String rest = path.substring(i);
        String[] segments = rest.isEmpty() ? new String[0] : rest.split("\\.", -1);
        switch (segments.length) {
            case 0 -> out.write(NULL_NAME);
            case 1 -> { }
            case 2 -> out.write(DUAL_NAME_PREFIX);
            default -> {
                if (segments.length > 255) throw new IllegalArgumentException("too many name segments: " + path);
                out.write(MULTI_NAME_PREFIX);
                out.write(segments.length);
            }
        }
        for (String s : segments) out.writeBytes(nameSeg(s, path));
        return out.toByteArray();
    }

    /** One NameSeg, padded to 4 characters with {@code '_'}. */
    static byte[] nameSeg(String segment, String path) {
        if (segment.isEmpty() || segment.length() > 4)
            throw new IllegalArgumentException("name segment must be 1-4 characters: '" + segment + "' in " + path);
        for (int k = 0; k < segment.length(); k++) {
            char c = segment.charAt(k);
            boolean lead = (c >= 'A' && c <= 'Z') || c == '_';
            if (!(lead || (k > 0 && c >= '0' && c <= '9')))
                throw new IllegalArgumentException("bad character '" + c + "' in name segment of " + path);
        }
        return (segment + "___".substring(0, 4 - segment.length())).getBytes(StandardCharsets.US_ASCII);
    }
}
