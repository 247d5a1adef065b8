package io.jkvm.kvm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.bus.Bus;
import io.jkvm.bus.BusDevice;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** The exit path allocates nothing: decode + dispatch of PIO and MMIO exits, measured per thread. */
class ExitPathAllocationTest {
    private static final int EXITS = 200_000;

    @Test
    void dispatchAllocatesNothingPerExit() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long[] sink = new long[1];
        BusDevice device = new BusDevice() {
            @Override public long read(long offset, int size) { return offset; }
            @Override public void write(long offset, int size, long value) { sink[0] += value; }
        };
        Bus pio = new Bus("pio");
        Bus mmio = new Bus("mmio");
        pio.register(0x3f8, 8, device);
        mmio.register(0xd000_0000L, 0x1000, device);
        ExitStats stats = new ExitStats();
        ExitDispatcher d = new ExitDispatcher(pio, mmio, new ExitDispatcherTest.FakeVcpu(), false, stats);
        KvmRunBuffer out = new KvmRunBuffer().io(true, 1, 0x3f8, 4);
        KvmRunBuffer in = new KvmRunBuffer().io(false, 2, 0x3fd, 1);
        KvmRunBuffer mmioWrite = new KvmRunBuffer().mmio(0xd000_0070L, 4, true, 5);

        run(d, stats, out, in, mmioWrite); // warm up: class loading, JIT
        long before = threads.getCurrentThreadAllocatedBytes();
        run(d, stats, out, in, mmioWrite);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 4096, allocated + " bytes allocated for " + 3 * EXITS + " exits");

        stats.latencies(); // metrics on: the histograms record too
        run(d, stats, out, in, mmioWrite);
        before = threads.getCurrentThreadAllocatedBytes();
        run(d, stats, out, in, mmioWrite);
        allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 4096, allocated + " bytes allocated for " + 3 * EXITS + " exits with latency histograms");
        assertTrue(stats.latencies().takeInterval().get(ExitReason.IO).getTotalCount() >= 4L * EXITS);
    }

    private static void run(ExitDispatcher d, ExitStats stats, KvmRunBuffer... exits) {
        for (int i = 0; i < EXITS; i++) {
            for (KvmRunBuffer e : exits) {
                long t = System.nanoTime();
                d.dispatch(e.run);
                stats.recordExit(e.run.exitReason(), System.nanoTime() - t);
            }
        }
    }
}
