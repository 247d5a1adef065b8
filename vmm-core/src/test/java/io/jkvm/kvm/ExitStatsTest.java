package io.jkvm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExitStatsTest {
    @Test
    void countsAndTimesPerReason() {
        ExitStats s = new ExitStats();
        s.recordExit(ExitReason.IO, 100);
        s.recordExit(ExitReason.IO, 300);
        s.recordExit(ExitReason.MMIO, 50);
        s.recordKvmRun(7000);
        assertEquals(2, s.count(ExitReason.IO));
        assertEquals(400, s.nanos(ExitReason.IO));
        assertEquals(1, s.count(ExitReason.MMIO));
        assertEquals(0, s.count(ExitReason.HLT));
        assertEquals(3, s.totalExits());
        assertEquals(7000, s.nanosInKvmRun());
        String table = s.format();
        assertTrue(table.contains("IO"), table);
        assertTrue(!table.contains("HLT"), "reasons without exits are left out: " + table);
    }

    @Test
    void addressCounterKeepsEveryAddressApart() {
        AddressCounter c = new AddressCounter(64);
        long[] addresses = {0, 1, 0x3f8, 0xffff_ffff_ffff_f000L, 0x8000_0000_0000_0000L, 64, 128};
        for (int round = 1; round <= 3; round++) for (long a : addresses) c.increment(a);
        Map<Long, Long> m = c.snapshot();
        assertEquals(addresses.length, m.size());
        for (long a : addresses) assertEquals(3L, m.get(a), Long.toHexString(a));
        List<Long> order = new ArrayList<>(m.keySet());
        assertEquals(0x8000_0000_0000_0000L, order.get(order.size() - 2), "unsigned order");
        assertEquals(0, c.overflow());
    }

    @Test
    void addressCounterOverflowsInsteadOfGrowing() {
        AddressCounter c = new AddressCounter(16); // 12 usable slots
        for (long a = 0; a < 20; a++) c.increment(a);
        assertEquals(12, c.snapshot().size());
        assertEquals(8, c.overflow());
        c.increment(0);
        assertEquals(2L, c.snapshot().get(0L), "known addresses still count");
    }
}
