package io.jkvm.devices.virtio.rng;

import io.jkvm.devices.CounterSet;
import io.jkvm.devices.virtio.DescriptorChain;
import io.jkvm.devices.virtio.VirtioDevice;
import io.jkvm.devices.virtio.VirtioFeature;
import io.jkvm.devices.virtio.Virtqueue;
import io.jkvm.memory.GuestMemory;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * A virtio entropy device (virtio 1.2 §5.4): one request queue whose device-writable buffers it fills with
 * bytes from the host's {@link SecureRandom}. It has no feature bits and no configuration space of its own.
 * A chain with buffers outside guest RAM is returned with used length 0; readable buffers are ignored.
 * It keeps no state of its own: a snapshot holds its queue and nothing else.
 */
public final class VirtioRng implements VirtioDevice {
    /** §5: device ID of an entropy source. */
    public static final int DEVICE_ID = 4;
    public static final int QUEUE_SIZE = 64;
    /** Bytes served per request at most, so that one huge buffer cannot keep the I/O thread busy. */
    public static final int MAX_BYTES_PER_REQUEST = 64 * 1024;

    private final SecureRandom random;
    private final byte[] scratch = new byte[4096];
    private final CounterSet counted = new CounterSet();
    private final LongAdder bytes = counted.add("bytes"); // served, counted on the queue's I/O thread

    public VirtioRng() {
        this(new SecureRandom());
    }

    public VirtioRng(SecureRandom random) {
        this.random = random;
    }

    @Override
    public int deviceId() {
        return DEVICE_ID;
    }

    @Override
    public String name() {
        return "virtio-rng";
    }

    @Override
    public Map<String, Long> counters() {
        return counted.snapshot();
    }

    @Override
    public long features() {
        return VirtioFeature.TRANSPORT_FEATURES;
    }

    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public int maxQueueSize() {
        return QUEUE_SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        return 0;
    }

    @Override
    public void saveState(StateWriter out) {}

    @Override
    public void restoreState(StateReader in) {}

    @Override
    public void processQueue(int index, Virtqueue queue) {
        GuestMemory memory = queue.memory();
        for (DescriptorChain chain = queue.next(); chain != null; chain = queue.next()) {
            queue.complete(fill(memory, chain));
        }
    }

    private int fill(GuestMemory memory, DescriptorChain chain) {
        int total = (int) Math.min(chain.writableBytes(), MAX_BYTES_PER_REQUEST);
        for (int done = 0; done < total; ) {
            int n = Math.min(scratch.length, total - done);
            random.nextBytes(scratch);
            chain.writeWritable(memory, done, scratch, n);
            done += n;
        }
        bytes.add(total);
        return total;
    }
}
