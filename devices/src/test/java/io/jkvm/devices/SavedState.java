package io.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import io.jkvm.snapshot.Stateful;
import java.util.function.Supplier;

/** Saves and restores a device's state as the machine will (one named section), and corrupts it for tests. */
public final class SavedState {
    private static final String SECTION = "device";

    private SavedState() {}

    public static byte[] save(Stateful part) {
        return new StateWriter().section(SECTION, part).toByteArray();
    }

    /** Restores {@code state} into {@code part}, which must read all of it; returns {@code part}. */
    public static <T extends Stateful> T restore(byte[] state, T part) {
        StateReader in = new StateReader(state);
        in.section(SECTION, part);
        assertTrue(in.atEnd(), "state left unread");
        return part;
    }

    /**
     * Every truncation of {@code state} is refused with {@link SnapshotFormatException}, and every single-byte
     * change is either taken or refused with it, never another exception, restored each time into a fresh
     * object (closed afterwards if it is {@link AutoCloseable}).
     */
    public static void assertCorruptionRefused(byte[] state, Supplier<? extends Stateful> fresh) throws Exception {
        for (int length = 0; length < state.length; length++) {
            byte[] cut = java.util.Arrays.copyOf(state, length);
            withFresh(fresh, part -> assertThrows(SnapshotFormatException.class, () -> restore(cut, part),
                    "state cut to " + cut.length + " bytes"));
        }
        for (int at = 0; at < state.length; at++) {
            for (int value : new int[] {0x00, 0x01, 0x7f, 0x80, 0xff, state[at] + 1}) {
                byte[] changed = state.clone();
                changed[at] = (byte) value;
                String what = "byte " + at + " set to " + (value & 0xff);
                withFresh(fresh, part -> {
                    try {
                        restore(changed, part);
                    } catch (SnapshotFormatException expected) {
                        // refused with a message: what a corrupt state may do
                    } catch (RuntimeException | AssertionError e) {
                        fail(what + ": " + e, e);
                    }
                });
            }
        }
    }

    private interface Check {
        void accept(Stateful part) throws Exception;
    }

    private static void withFresh(Supplier<? extends Stateful> fresh, Check check) throws Exception {
        Stateful part = fresh.get();
        try {
            check.accept(part);
        } finally {
            if (part instanceof AutoCloseable c) c.close();
        }
    }
}
