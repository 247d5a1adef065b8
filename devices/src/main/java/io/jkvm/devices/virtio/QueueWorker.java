package io.jkvm.devices.virtio;

import io.jkvm.io.EventFd;
import io.jkvm.io.PollSet;
import io.jkvm.kvm.sys.Native;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

/**
 * The I/O thread of one virtqueue: it blocks on the queue's notify eventfd (a KVM ioeventfd, or signalled by
 * the transport for a QueueNotify write that reached userspace), and on the device's readiness fd when it
 * names one (poll(2) over both), and services the queue on each wake-up.
 * {@link #stop()} sets a flag and signals the eventfd, so the thread wakes, sees the flag and ends. Nothing
 * thrown by the service ends the thread, not even an Error (OutOfMemoryError, StackOverflowError): it goes to
 * the failure handler (the transport sets DEVICE_NEEDS_RESET) and the thread waits for the next notification.
 */
final class QueueWorker {
    private final EventFd notify;
    private final Runnable service;
    private final Consumer<Throwable> onFailure;
    private final IntSupplier readinessFd;
    private final PollSet poll = new PollSet(2);
    private final Thread thread;
    private volatile boolean stopping;

    QueueWorker(String name, EventFd notify, Runnable service, Consumer<Throwable> onFailure, IntSupplier readinessFd) {
        this.notify = notify;
        this.service = service;
        this.onFailure = onFailure;
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
            } catch (RuntimeException | Error e) {
                failed(e);
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
