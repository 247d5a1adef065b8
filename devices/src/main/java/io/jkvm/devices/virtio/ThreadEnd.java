package io.jkvm.devices.virtio;

/** Waiting for a device thread to end, from a close() that must not give up half-way. */
public final class ThreadEnd {
    private ThreadEnd() {}

    /** Joins {@code thread} even if interrupted meanwhile; the interrupt is kept for the caller. */
    public static void await(Thread thread) {
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
