package io.jkvm.devices;

import java.util.Map;

/**
 * What a device counts while it works, for the metrics ({@code PUT /metrics}, {@code jkvm info}): requests,
 * bytes, errors, each since the device was created. The device counts on the thread that does the work
 * (a vCPU for a UART, a queue's I/O thread for a virtio device) without allocating; {@link #counters()}
 * may be called from any thread and sees recent values.
 */
public interface DeviceCounters {
    /** A short name after the hardware or spec: {@code uart}, {@code virtio-blk}. */
    String name();

    /** Counter name ({@code read_bytes}) → value, in an order fixed by the device; a new map on every call. */
    Map<String, Long> counters();
}
