package io.jkvm.devices.virtio;

import io.jkvm.io.EventFd;

/**
 * The I/O thread of one virtqueue: it blocks on the queue's notify eventfd (a KVM ioeventfd, or signalled by
 * the transport for a QueueNotify write that reached userspace) and services the queue on each wake-up.
 * {@link #stop()} sets a flag and signals the eventfd, so the thread wakes, sees the flag and ends.
 */
final class QueueWorker {
    private final EventFd notify;
    private final Runnable service;
    private final Thread thread;
    private volatile boolean stopping;

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
            service.run();
        }
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
