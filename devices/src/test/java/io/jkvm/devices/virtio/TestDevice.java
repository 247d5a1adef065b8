package io.jkvm.devices.virtio;

import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import java.util.concurrent.atomic.AtomicInteger;

/** A minimal device for transport tests: fixed config bytes, completes every chain with its writable length. */
final class TestDevice implements VirtioDevice {
    static final int DEVICE_ID = 42;
    static final long DEVICE_FEATURE = 1L << 3;

    final ConfigSpace config = new ConfigSpace(8);
    final AtomicInteger processed = new AtomicInteger();
    final AtomicInteger resets = new AtomicInteger();
    /** The most chains one {@link #processQueue} call served. */
    final AtomicInteger maxChainsPerCall = new AtomicInteger();
    /** Runs for each chain before it completes, on the I/O thread: slow I/O, or a guest adding chains meanwhile. */
    volatile Runnable duringChain = () -> {};
    volatile long activatedWith = -1;
    /** Thrown by {@link #processQueue} when set: a RuntimeException or an Error. */
    volatile Throwable failure;
    volatile boolean closed;
    private final int queues;

    TestDevice(int queues) {
        this.queues = queues;
        config.put64(0, 0x1122_3344_5566_7788L);
    }

    @Override public int deviceId() { return DEVICE_ID; }
    @Override public long features() { return VirtioFeature.TRANSPORT_FEATURES | DEVICE_FEATURE; }
    @Override public int queueCount() { return queues; }
    @Override public int maxQueueSize() { return 16; }
    @Override public long readConfig(int offset, int size) { return config.read(offset, size); }
    @Override public void activate(long negotiatedFeatures) { activatedWith = negotiatedFeatures; }
    @Override public void reset() { resets.incrementAndGet(); }
    @Override public void close() { closed = true; }
    @Override public void saveState(StateWriter out) { out.section("config", config); }
    @Override public void restoreState(StateReader in) { in.section("config", config); }

    @Override
    public void processQueue(int index, Virtqueue queue) {
        Throwable f = failure;
        if (f instanceof RuntimeException e) throw e;
        if (f instanceof Error e) throw e;
        int chains = 0;
        for (DescriptorChain c = queue.next(); c != null; c = queue.next()) {
            duringChain.run();
            // Counted before it completes: a reset waits for the chain in hand to complete, not for this loop.
            processed.incrementAndGet();
            queue.complete((int) c.writableBytes());
            chains++;
        }
        maxChainsPerCall.accumulateAndGet(chains, Math::max);
    }
}
