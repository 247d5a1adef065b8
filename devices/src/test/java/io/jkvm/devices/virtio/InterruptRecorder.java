package io.jkvm.devices.virtio;

import io.jkvm.bus.InterruptLine;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** An interrupt line for tests: counts edges and lets a test wait for the next one. */
public final class InterruptRecorder implements InterruptLine {
    private final Semaphore edges = new Semaphore(0);
    private volatile boolean asserted;
    private volatile int count;

    @Override
    public void set(boolean level) {
        if (level && !asserted) {
            count++;
            edges.release();
        }
        asserted = level;
    }

    public int count() {
        return count;
    }

    public boolean asserted() {
        return asserted;
    }

    /** Waits up to 5 s for an edge not yet waited for. */
    public boolean awaitEdge() throws InterruptedException {
        return edges.tryAcquire(5, TimeUnit.SECONDS);
    }
}
