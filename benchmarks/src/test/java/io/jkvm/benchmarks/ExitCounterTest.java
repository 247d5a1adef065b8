package io.jkvm.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jkvm.guests.Ending;
import io.jkvm.guests.TestGuest;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ExitCounterTest {

    @Test
    void endsTheBatchAfterExactlyTheArmedNumberOfWrites() {
        AtomicInteger ends = new AtomicInteger();
        ExitCounter c = new ExitCounter(1, 0x2a);
        c.arm(ends::incrementAndGet, 3);
        c.write(0, 1, 0x2a);
        c.write(0, 1, 0x2a);
        assertEquals(0, ends.get());
        c.write(0, 1, 0x2a);
        assertEquals(1, ends.get());
        c.arm(ends::incrementAndGet, 1);
        c.write(0, 1, 0x2a);
        assertEquals(2, ends.get());
    }

    @Test
    void rejectsAnythingButTheDeclaredWrite() {
        ExitCounter c = new ExitCounter(4, 0x2a);
        c.arm(() -> {}, 10);
        assertThrows(IllegalStateException.class, () -> c.write(0, 1, 0x2a));
        assertThrows(IllegalStateException.class, () -> c.write(4, 4, 0x2a));
        assertThrows(IllegalStateException.class, () -> c.write(0, 4, 0x2b));
        assertThrows(IllegalStateException.class, () -> c.read(0, 4));
        assertThrows(IllegalArgumentException.class, () -> c.arm(() -> {}, 0));
    }

    @Test
    void benchmarkGuestsAreThirtyTwoBitLoopsOnTheBusesTheCBaselineExpects() {
        // exit-loop.c hard-codes these: keep them in step with bench-*.expect.
        Ending.Loop pio = (Ending.Loop) TestGuest.load("bench-pio").spec().ending();
        Ending.Loop mmio = (Ending.Loop) TestGuest.load("bench-mmio").spec().ending();
        assertEquals(new Ending.Loop(Ending.ExitKind.PIO, 0x80, 1, 0x2a), pio);
        assertEquals(new Ending.Loop(Ending.ExitKind.MMIO, 0xd000_0000L, 4, 0x2a), mmio);
        for (String name : new String[] {"bench-pio", "bench-mmio"}) {
            var spec = TestGuest.load(name).spec();
            assertEquals(0x1000, spec.loadAddress(), name);
            assertEquals(0x1000, spec.entry(), name);
            assertEquals(0x100000, spec.memorySize(), name);
        }
    }
}
