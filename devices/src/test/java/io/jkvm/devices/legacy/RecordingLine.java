package io.jkvm.devices.legacy;

import io.jkvm.bus.InterruptLine;
import java.util.concurrent.atomic.AtomicInteger;

/** An interrupt line that remembers its level and counts rising edges and redundant calls. */
final class RecordingLine implements InterruptLine {
    private volatile boolean level;
    final AtomicInteger risingEdges = new AtomicInteger();
    final AtomicInteger redundantCalls = new AtomicInteger();

    @Override
    public synchronized void set(boolean asserted) {
        if (asserted == level) redundantCalls.incrementAndGet();
        else if (asserted) risingEdges.incrementAndGet();
        level = asserted;
    }

    boolean level() {
        return level;
    }
}
