package io.jkvm.devices.virtio.vsock;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * The bytes a guest sent on one connection that the host socket has not taken yet: a ring of at most the
 * connection's buf_alloc bytes, so the guest's credit (virtio 1.2 §5.10.6.3) bounds it. The array exists
 * only while bytes are waiting: an idle connection holds no buffer.
 */
final class OutboundBuffer {
    private final int capacity;
    private byte[] ring;
    private int head;
    private int size;

    OutboundBuffer(int capacity) {
        this.capacity = capacity;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** Room left; the caller checks it before {@link #append}. */
    int free() {
        return capacity - size;
    }

    void append(byte[] src, int offset, int length) {
        if (length > free()) throw new IllegalStateException(length + " bytes do not fit in " + free());
        if (ring == null) ring = new byte[capacity];
        int tail = (head + size) % capacity;
        int first = Math.min(length, capacity - tail);
        System.arraycopy(src, offset, ring, tail, first);
        System.arraycopy(src, offset + first, ring, 0, length - first);
        size += length;
    }

    /** Writes what the (non-blocking) channel takes, oldest bytes first; returns how many it took. */
    int drainTo(WritableByteChannel channel) throws IOException {
        int total = 0;
        while (size > 0) {
            int n = channel.write(ByteBuffer.wrap(ring, head, Math.min(size, capacity - head)));
            if (n == 0) break;
            head = (head + n) % capacity;
            size -= n;
            total += n;
        }
        if (size == 0) {
            ring = null;
            head = 0;
        }
        return total;
    }
}
