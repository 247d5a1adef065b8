package io.jkvm.devices.virtio;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What lets a transport's queue I/O threads take requests, and stops them while the machine is paused: a
 * thread {@link #enter}s before servicing a queue and {@link #exit}s after. {@link #pause()} closes the
 * gate and waits for the services in flight to finish, so when it returns no request is being worked on
 * and none will be until {@link #resume()}; a thread woken meanwhile waits at the gate (no CPU) and does its
 * work after the resume. {@link #close()} opens the gate for good, with {@link #enter} refusing, so a
 * paused machine can be shut down.
 */
final class PauseGate {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean paused;
    private boolean closed;
    private int inFlight;

    /** Before a service: waits while paused; false once closed (do not service). */
    boolean enter() {
        lock.lock();
        try {
            while (paused && !closed) changed.awaitUninterruptibly();
            if (closed) return false;
            inFlight++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** After a service that {@link #enter} let through. */
    void exit() {
        update(() -> inFlight--);
    }

    /** Stops new services and waits until the ones in flight have finished; pausing twice is pausing once. */
    void pause() {
        lock.lock();
        try {
            paused = true;
            while (inFlight > 0) changed.awaitUninterruptibly();
        } finally {
            lock.unlock();
        }
    }

    /** Whether the gate is paused with no service in flight: what {@link #pause()} returns into. */
    boolean quiet() {
        lock.lock();
        try {
            return paused && inFlight == 0;
        } finally {
            lock.unlock();
        }
    }

    /** Lets services run again, the waiting ones first; resuming an open gate changes nothing. */
    void resume() {
        update(() -> paused = false);
    }

    /** Releases every waiting thread for good: {@link #enter} returns false from now on. */
    void close() {
        update(() -> closed = true);
    }

    private void update(Runnable change) {
        lock.lock();
        try {
            change.run();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
