package io.jkvm.devices.virtio;

import io.jkvm.io.EventFd;

/**
 * The I/O thread of one virtqueue: it blocks on the queue's notify eventfd (a KVM ioeventfd, or signalled by
 * the transport for a QueueNotify write that reached userspace) and services the queue on each wake-up.
 * {@link #stop()} sets a flag and signals the eventfd, so the thread wakes, sees the flag and ends. Nothing
 * thrown by the service ends the thread: it is logged once and the thread waits for the next notification.
 */
final class QueueWorker {
    private final EventFd notify;
    private final Runnable service;
    private final Thread thread;
    private volatile boolean stopping;
    private boolean reported;

    QueueWorker(String name, EventFd notify, Runnable service) {
        this.notify = notify;
        this.service = service;
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void run() {
        while (true) {
            notify.await();
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

    /** Ends the thread and waits for it; the eventfd stays open (its owner closes it). */
    void stop() {
        stopping = true;
        if (!thread.isAlive()) return;
        notify.signal();
        ThreadEnd.await(thread);
    }
}
