package io.jkvm.io;

import java.util.function.IntConsumer;

/**
 * Bytes from a thread that must never block (a vCPU emulating a UART's transmitter) to a host sink that may
 * (a terminal in copy mode, a pipe nobody drains, a stuck ssh session): a bounded ring drained by a thread
 * of its own. A byte that finds the ring full is dropped and counted. {@link #close} gives the drain thread
 * a moment to write what is left, counts the rest as dropped and never waits for a sink that is stuck.
 * {@link #accept} allocates nothing.
 */
public final class NonBlockingOutput implements IntConsumer, AutoCloseable {
    /** Bytes the drain thread takes out of the ring at a time. */
    private static final int CHUNK = 4096;

    private final byte[] ring;
    private final IntConsumer sink;
    private final long closeMillis;
    private final Thread drain;
    private final byte[] chunk = new byte[CHUNK];
    // Guarded by this.
    private int head;
    private int count;
    /** Bytes of {@link #chunk} the drain thread took out of the ring. */
    private int inFlight;
    private long dropped;
    private boolean closed;
    // Written by the drain thread, read by close.
    private volatile int handed;
    /** Set by a close that gave up on the sink: the drain thread hands it nothing more. */
    private volatile boolean abandoned;

    /**
     * @param name        the drain thread's name
     * @param capacity    bytes held for a sink that falls behind
     * @param closeMillis how long {@link #close} waits for the sink to take what is left
     * @param sink        receives every byte not dropped, in order, on the drain thread
     */
    public NonBlockingOutput(String name, int capacity, long closeMillis, IntConsumer sink) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be positive: " + capacity);
        this.ring = new byte[capacity];
        this.sink = sink;
        this.closeMillis = closeMillis;
        this.drain = new Thread(this::drain, name);
        drain.setDaemon(true); // a sink stuck in write(2) must not keep the JVM alive
        drain.start();
    }

    /** Queues {@code b} for the sink, or drops it if the ring is full or the output closed. Never blocks. */
    @Override
    public synchronized void accept(int b) {
        if (closed || count == ring.length) {
            dropped++;
            return;
        }
        ring[(head + count) % ring.length] = (byte) b;
        if (count++ == 0) notifyAll();
    }

    /** Bytes dropped so far: final once {@link #close} has returned. */
    public synchronized long dropped() {
        return dropped;
    }

    private void drain() {
        while (true) {
            int n;
            synchronized (this) {
                try {
                    while (count == 0 && !closed) wait();
                } catch (InterruptedException e) {
                    return;
                }
                if (count == 0) return;
                n = Math.min(count, CHUNK);
                for (int i = 0; i < n; i++) chunk[i] = ring[(head + i) % ring.length];
                head = (head + n) % ring.length;
                count -= n;
                inFlight = n;
                handed = 0;
            }
            for (int i = 0; i < n && !abandoned; i++) {
                handed = i + 1;
                sink.accept(chunk[i] & 0xff);
            }
            synchronized (this) {
                inFlight = 0;
                notifyAll();
            }
        }
    }

    /**
     * Takes no more bytes, waits up to the close timeout for the sink to take what is queued, and counts
     * what it did not take as dropped. The drain thread ends once it is done; a stuck one is left behind.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        notifyAll();
        long deadline = System.nanoTime() + closeMillis * 1_000_000;
        boolean interrupted = false;
        while (count + inFlight > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                abandoned = true;
                dropped += count + inFlight - handed;
                count = 0;
                break;
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
