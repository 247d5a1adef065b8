package io.jkvm.devices.virtio;

import io.jkvm.io.EventFd;
import io.jkvm.io.PollSet;
import io.jkvm.kvm.sys.Native;
import java.util.function.IntSupplier;

/**
 * The I/O thread of one virtqueue: it blocks on the queue's notify eventfd (a KVM ioeventfd, or signalled by
 * the transport for a QueueNotify write that reached userspace), and on the device's readiness fd when it
 * names one (poll(2) over both), and services the queue on each wake-up.
 * {@link #stop()} sets a flag and signals the eventfd, so the thread wakes, sees the flag and ends. Nothing
 * thrown by the service ends the thread: it is logged once and the thread waits for the next notification.
 */
final class QueueWorker {
    private final EventFd notify;
    private final Runnable service;
    private final IntSupplier readinessFd;
    private final PollSet poll = new PollSet(2);
    private final Thread thread;
    private volatile boolean stopping;
    private boolean reported;

    QueueWorker(String name, EventFd notify, Runnable service, IntSupplier readinessFd) {
        this.notify = notify;
        this.service = service;
        this.readinessFd = readinessFd;
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void run() {
        while (true) {
            awaitWork();
            if (stopping) return;
            try {
                service.run();
            } catch (RuntimeException e) { // e.g. the interrupt line failed: keep the thread, log once
                if (!reported) System.getLogger(QueueWorker.class.getName())
                        .log(System.Logger.Level.ERROR, thread.getName() + ": queue service failed", e);
                reported = true;
            }
        }
    }

    /** Waits for a notification, or for the device's readiness fd if it has one now. */
    private void awaitWork() {
        int fd = readinessFd.getAsInt();
        if (fd < 0) {
            notify.await();
            return;
        }
        poll.set(0, notify.fd(), Native.POLLIN);
        poll.set(1, fd, Native.POLLIN);
        poll.await(2);
        if (poll.ready(0) != 0) notify.await(); // readable: returns at once and clears the counter
    }

    /** Ends the thread and waits for it; the eventfd stays open (its owner closes it). */
    void stop() {
        stopping = true;
        if (!thread.isAlive()) return;
        notify.signal();
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
