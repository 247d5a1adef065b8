package io.jkvm.devices.virtio;

import io.jkvm.devices.DeviceCounters;
import io.jkvm.snapshot.Stateful;
import java.util.Map;

/**
 * A virtio device model: its device ID, features, configuration space and what it does with the buffers
 * of its queues. It knows nothing of MMIO registers or interrupts; {@link MmioTransport} owns those.
 *
 * <p>{@link #processQueue} runs on the queue's I/O thread; it pops chains with {@link Virtqueue#next()} and
 * returns each with {@link Virtqueue#complete(int)} until {@code next()} returns null (a queue's worth at most
 * per call). It must not throw for anything the guest put in the buffers (an exception
 * is contained by the transport, which then sets DEVICE_NEEDS_RESET). Each queue has its own I/O thread, so a
 * device with several queues sees concurrent calls for different queues, never for the same one.
 * {@link #activate} and {@link #reset} run on a vCPU thread while no chain is in the device's hands (a reset
 * waits for the chain in hand to complete; {@code next()} then returns null until the queue is set up again).
 *
 * <p>Its {@linkplain Stateful state} is what the device keeps beyond its queues and the negotiation, saved
 * and restored by the {@link MmioTransport} while paused; on restore the transport calls {@link #activate}
 * afterwards for a live device, so what follows from the negotiated features need not be saved. A restore
 * checks that the device was built from the same configuration (a disk of the same size, the same MAC).
 */
public interface VirtioDevice extends AutoCloseable, Stateful, DeviceCounters {
    /** The device ID of virtio 1.2 §5 (1 = network, 2 = block, 4 = entropy). */
    int deviceId();

    /** Offered features, including {@link VirtioFeature#TRANSPORT_FEATURES}. */
    long features();

    int queueCount();

    /** The largest queue size the device supports (a power of two, at most 32768). */
    int maxQueueSize();

    /** A little-endian read of {@code size} bytes at {@code offset} in the device configuration space; 0 past its end. */
    long readConfig(int offset, int size);

    /** A driver write to the configuration space; ignored unless a device has writable fields. */
    default void writeConfig(int offset, int size, long value) {}

    /** Called when the driver sets DRIVER_OK, with the negotiated features. */
    default void activate(long negotiatedFeatures) {}

    void processQueue(int index, Virtqueue queue);

    /**
     * Called once by the transport, before any other call: {@code serviceQueue.accept(index)} wakes queue
     * {@code index}'s I/O thread as a driver notification would, for work that arrives from the host side (a
     * socket that became readable). Safe from any thread, a no-op once the transport is closed.
     */
    default void bindQueueService(java.util.function.IntConsumer serviceQueue) {}

    /**
     * A host file descriptor whose readability also wakes queue {@code index}'s I/O thread (besides the
     * driver's notifications), or -1 for none. Asked by that thread before each wait and only while the
     * device is live, so a device returns one only when it can use the wake-up (e.g. a network device
     * whose receive queue has room, for its TAP); otherwise a ready fd would wake the thread in a loop.
     */
    default int readinessFd(int index) {
        return -1;
    }

    /** Called when the driver resets the device (status 0). */
    default void reset() {}

    /** The name in traces and metrics, {@code virtio-blk}; without one, {@code virtio-} and the device ID. */
    @Override
    default String name() {
        return "virtio-" + deviceId();
    }

    /** What the device counted (see {@link DeviceCounters}); none unless it counts. */
    @Override
    default Map<String, Long> counters() {
        return Map.of();
    }

    @Override
    default void close() {}
}
