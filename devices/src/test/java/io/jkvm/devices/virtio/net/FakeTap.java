package io.jkvm.devices.virtio.net;

import io.jkvm.io.EventFd;
import io.jkvm.io.FrameChannel;
import io.jkvm.io.IoVector;
import io.jkvm.kvm.sys.RawMemory;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TAP for tests: frames pushed by the test are received by the device (an eventfd polls readable while
 * any wait, as a TAP's fd does), frames the device sends are kept for the test. Like a TAP, a receive into
 * too little room copies what fits and returns the whole length.
 */
final class FakeTap implements FrameChannel {
    private final EventFd readable = new EventFd();
    private final Deque<byte[]> toGuest = new ArrayDeque<>();
    private final BlockingQueue<byte[]> fromGuest = new LinkedBlockingQueue<>();
    final AtomicInteger receiveCalls = new AtomicInteger();
    volatile int offloads = -1;

    /** Queues a frame (vnet header included) for the device to receive. */
    synchronized void push(byte[] frame) {
        if (toGuest.isEmpty()) readable.signal();
        toGuest.add(frame);
    }

    synchronized int waiting() {
        return toGuest.size();
    }

    /** The next frame (vnet header included) the device sent, or null after 5 s. */
    byte[] sent() throws InterruptedException {
        return fromGuest.poll(5, TimeUnit.SECONDS);
    }

    @Override
    public synchronized long receive(IoVector buffers) {
        receiveCalls.incrementAndGet();
        byte[] frame = toGuest.poll();
        if (frame == null) return NO_FRAME;
        if (toGuest.isEmpty()) readable.await(); // no longer readable
        int done = 0;
        for (int i = 0; i < buffers.count() && done < frame.length; i++) {
            int n = (int) Math.min(buffers.length(i), frame.length - done);
            RawMemory.put(buffers.hostAddress(i), frame, done, n);
            done += n;
        }
        return frame.length;
    }

    @Override
    public void send(IoVector buffers) {
        long total = 0;
        for (int i = 0; i < buffers.count(); i++) total += buffers.length(i);
        byte[] frame = new byte[(int) total];
        int done = 0;
        for (int i = 0; i < buffers.count(); i++) {
            RawMemory.get(buffers.hostAddress(i), frame, done, (int) buffers.length(i));
            done += (int) buffers.length(i);
        }
        fromGuest.add(frame);
    }

    @Override
    public int readinessFd() {
        return readable.fd();
    }

    @Override
    public void setOffloads(int tunFlags) {
        offloads = tunFlags;
    }

    @Override
    public void close() {
        readable.close();
    }
}
