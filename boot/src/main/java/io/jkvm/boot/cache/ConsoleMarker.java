package io.jkvm.boot.cache;

import java.nio.charset.StandardCharsets;
import java.util.function.IntConsumer;

/**
 * Finds a fixed text in a byte stream (the guest's serial output) as the bytes go by, with the
 * Knuth-Morris-Pratt failure table: a constant amount of work and no allocation per byte, and a match
 * found whatever the stream did just before it (a partial marker, a repeated prefix). Not thread-safe: the
 * console is drained by one thread.
 */
public final class ConsoleMarker {
    private final byte[] marker;
    /** KMP: for each prefix length, the length of its longest proper prefix that is also its suffix. */
    private final int[] fallback;
    private int matched;

    public ConsoleMarker(String text) {
        marker = text.getBytes(StandardCharsets.US_ASCII);
        if (marker.length == 0) throw new IllegalArgumentException("empty marker");
        fallback = new int[marker.length + 1];
        for (int i = 1, k = 0; i < marker.length; i++) {
            while (k > 0 && marker[i] != marker[k]) k = fallback[k];
            if (marker[i] == marker[k]) k++;
            fallback[i + 1] = k;
        }
    }

    /** Takes the next byte; true when it completes the marker (then matching starts afresh). */
    public boolean accept(int b) {
        byte c = (byte) b;
        while (matched > 0 && marker[matched] != c) matched = fallback[matched];
        if (marker[matched] == c) matched++;
        if (matched < marker.length) return false;
        matched = 0;
        return true;
    }

    /**
     * A serial sink that passes every byte to {@code sink} and, the first time the marker is complete,
     * runs {@code onMarker} (on the console's thread: it must not block); after that it only passes bytes on.
     */
    public IntConsumer watching(IntConsumer sink, Runnable onMarker) {
        return new IntConsumer() {
            private boolean seen;

            @Override
            public void accept(int b) {
                sink.accept(b);
                if (!seen && ConsoleMarker.this.accept(b)) {
                    seen = true;
                    onMarker.run();
                }
            }
        };
    }
}
