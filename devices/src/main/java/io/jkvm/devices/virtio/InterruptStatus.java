package io.jkvm.devices.virtio;

import io.jkvm.bus.InterruptLine;

/**
 * The InterruptStatus register of a virtio-mmio device (virtio 1.2 §4.2.2) and the interrupt edge sent with
 * each event. Every device reset starts a new epoch: an event raised for an older one (by an I/O thread that
 * began its work before the reset) is dropped. Setting the bit and sending the edge happen under the lock
 * that {@link #reset} takes too, so once a reset has returned the register reads 0 and no edge of an earlier
 * epoch follows (§2.4: after reset the device's registers hold their initial values).
 */
final class InterruptStatus {
    private final InterruptLine line;
    private volatile int bits;
    private int epoch;

    InterruptStatus(InterruptLine line) {
        this.line = line;
    }

    /** The current epoch: take it before starting work whose events belong to this device incarnation. */
    synchronized int epoch() {
        return epoch;
    }

    int read() {
        return bits;
    }

    /** InterruptACK: clears the bits the driver has handled. */
    synchronized void acknowledge(int handled) {
        bits &= ~handled;
    }

    /** Sets {@code bit} and sends one edge, unless a reset came after {@code epoch} was taken. */
    synchronized void raise(int bit, int epoch) {
        if (epoch != this.epoch) return;
        bits |= bit;
        line.trigger();
    }

    /**
     * A restored register (a snapshot's): the bits are pending again, and one edge tells the guest so, as
     * the edge sent with them before the snapshot may not have been handled.
     */
    synchronized void restore(int pending) {
        bits = pending;
        if (pending != 0) line.trigger();
    }

    /** Device reset: the register reads 0 and events of earlier epochs are dropped. */
    synchronized void reset() {
        epoch++;
        bits = 0;
    }
}
