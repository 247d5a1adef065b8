package io.jkvm.boot.cache;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ConsoleMarkerTest {
    /** The positions (index of the last byte) where the marker completes in {@code text}. */
    private static String matches(String marker, String text) {
        ConsoleMarker m = new ConsoleMarker(marker);
        StringBuilder at = new StringBuilder();
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < bytes.length; i++) if (m.accept(bytes[i] & 0xff)) at.append(i).append(' ');
        return at.toString().strip();
    }

    @Test
    void findsTheMarkerAfterFalseStartsAndRepeatedPrefixes() {
        assertEquals("9", matches("JKVM-READY", "JKVM-READY"));
        assertEquals("17", matches("JKVM-READY", "JKVJKVM-JKVM-READY\r\n"), "prefixes that break off");
        assertEquals("6", matches("aab", "aaaaaab"), "a repeated first byte");
        assertEquals("3", matches("abab", "ababab"), "after a match, matching starts afresh");
        assertEquals("3 9", matches("abab", "ababxxabab"));
        assertEquals("", matches("JKVM-READY", "JKVM-REAdY JKVM_READY JKVM-READ"));
    }

    @Test
    void eightBitBytesAreNotConfusedWithAscii() {
        assertEquals("", matches("A", "\u00c1"), "0xC1 is not 'A' (0x41)");
    }

    @Test
    void theWatchingSinkPassesEveryByteAndFiresOnce() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AtomicInteger fired = new AtomicInteger();
        var sink = new ConsoleMarker("READY").watching(out::write, fired::incrementAndGet);
        String text = "boot...\nREADY\nREADY again\n";
        for (byte b : text.getBytes(StandardCharsets.US_ASCII)) sink.accept(b & 0xff);
        assertEquals(text, out.toString(StandardCharsets.US_ASCII));
        assertEquals(1, fired.get());
    }

    @Test
    void anEmptyMarkerIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ConsoleMarker(""));
    }
}
