package io.jkvm.devices.virtio;

import io.jkvm.io.EventFd;
import java.util.function.Consumer;

/**
 * The I/O thread of one virtqueue: it blocks on the queue's notify eventfd (a KVM ioeventfd, or signalled by
 * the transport for a QueueNotify write that reached userspace) and services the queue on each wake-up.
 * {@link #stop()} sets a flag and signals the eventfd, so the thread wakes, sees the flag and ends. Nothing
 * thrown by the service ends the thread, not even an Error (OutOfMemoryError, StackOverflowError): it goes to
 * the failure handler (the transport sets DEVICE_NEEDS_RESET) and the thread waits for the next notification.
 */
final class QueueWorker {
    private final EventFd notify;
    private final Runnable service;
    private final Consumer<Throwable> onFailure;
    private final Thread thread;
    private volatile boolean stopping;

    QueueWorker(String name, EventFd notify, Runnable service, Consumer<Throwable> onFailure) {
        this.notify = notify;
        this.service = service;
        this.onFailure = onFailure;
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
            } catch (RuntimeException | Error e) {
                failed(e);
            }
        }
    }

    private void failed(Throwable e) {
        try {
            onFailure.accept(e);
        } catch (RuntimeException | Error again) {
            // the handler failed too (memory still short): the thread lives on for the next notification
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
