package io.jkvm.benchmarks;

import io.jkvm.bus.BusDevice;

/**
 * The device behind a benchmark guest's loop: counts the writes and ends the batch (stops the vCPU run).
 * Allocates nothing per write. A read, or a write other than the declared one, fails the run.
 */
final class ExitCounter implements BusDevice {
    private final int size;
    private final long value;
    private Runnable endOfBatch;
    private int remaining;

    ExitCounter(int size, long value) {
        this.size = size;
        this.value = value;
    }

    /** Lets the next {@code exits} writes through, then calls {@code endOfBatch}. */
    void arm(Runnable endOfBatch, int exits) {
        if (exits <= 0) throw new IllegalArgumentException("exits must be positive: " + exits);
        this.endOfBatch = endOfBatch;
        this.remaining = exits;
    }

    @Override
    public long read(long offset, int size) {
        throw new IllegalStateException("benchmark guest read at +" + offset);
    }

    @Override
    public void write(long offset, int size, long value) {
        if (offset != 0 || size != this.size || value != this.value)
            throw new IllegalStateException(String.format("benchmark guest wrote %#x (%d bytes) at +%d", value, size,
                    offset));
        if (--remaining == 0) endOfBatch.run();
    }
}
