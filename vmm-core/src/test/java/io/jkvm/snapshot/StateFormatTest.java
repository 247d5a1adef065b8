package io.jkvm.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class StateFormatTest {
    /** A device with two registers, as a device model would save itself. */
    static final class TwoRegisters implements Stateful {
        int a;
        long b;

        @Override
        public void saveState(StateWriter out) {
            out.u16(a).u64(b);
        }

        @Override
        public void restoreState(StateReader in) {
            a = in.u16();
            b = in.u64();
        }
    }

    @Test
    void valuesAndSectionsComeBackInOrder() {
        TwoRegisters saved = new TwoRegisters();
        saved.a = 0xbeef;
        saved.b = -2;
        byte[] state = new StateWriter().u8(7).bool(true).string("jkvm").section("dev", saved)
                .bytes(new byte[5000]).u32(-1).toByteArray();

        StateReader in = new StateReader(state);
        assertEquals(7, in.u8());
        assertTrue(in.bool());
        assertEquals("jkvm", in.string());
        TwoRegisters restored = new TwoRegisters();
        in.section("dev", restored);
        assertEquals(0xbeef, restored.a);
        assertEquals(-2, restored.b);
        assertArrayEquals(new byte[5000], in.bytes());
        assertEquals(-1, in.u32());
        assertTrue(in.atEnd());
    }

    @Test
    void aSectionOfAnotherDeviceIsRefused() {
        byte[] state = new StateWriter().section("uart", new TwoRegisters()).toByteArray();
        var e = assertThrows(SnapshotFormatException.class, () -> new StateReader(state).section("rtc", new TwoRegisters()));
        assertEquals("expected the state of rtc, found uart", e.getMessage());
    }

    @Test
    void aSectionItsDeviceDoesNotReadToTheEndIsRefused() {
        Stateful longer = new Stateful() {
            @Override
            public void saveState(StateWriter out) {
                out.u16(1).u64(2).u8(3);
            }

            @Override
            public void restoreState(StateReader in) {
            }
        };
        byte[] state = new StateWriter().section("dev", longer).toByteArray();
        var e = assertThrows(SnapshotFormatException.class, () -> new StateReader(state).section("dev", new TwoRegisters()));
        assertEquals("the state of dev has 1 bytes its device did not read", e.getMessage());
    }

    @Test
    void aDeviceCannotReadPastItsSection() {
        Stateful shorter = new Stateful() {
            @Override
            public void saveState(StateWriter out) {
                out.u16(1);
            }

            @Override
            public void restoreState(StateReader in) {
            }
        };
        byte[] state = new StateWriter().section("dev", shorter).u64(99).toByteArray();
        assertThrows(SnapshotFormatException.class, () -> new StateReader(state).section("dev", new TwoRegisters()));
    }

    @Test
    void everyTruncationIsAFormatErrorNotACrash() {
        TwoRegisters saved = new TwoRegisters();
        byte[] state = new StateWriter().string("x").section("dev", saved).bytes(new byte[3]).toByteArray();
        for (int n = 0; n < state.length; n++) {
            StateReader in = new StateReader(Arrays.copyOf(state, n));
            assertThrows(SnapshotFormatException.class, () -> {
                in.string();
                in.section("dev", new TwoRegisters());
                in.bytes();
            }, "truncated to " + n);
        }
    }

    @Test
    void rangeChecksNameTheValue() {
        StateReader in = new StateReader(new StateWriter().u32(300).toByteArray());
        var e = assertThrows(SnapshotFormatException.class, () -> in.u32InRange("queue size", 1, 256));
        assertEquals("queue size is 300, outside [1, 256]", e.getMessage());
    }
}
