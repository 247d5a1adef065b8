package io.jkvm.devices;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * A device's named counters, for its {@link DeviceCounters#counters()}: each a {@link LongAdder}, which the
 * counting threads add to without locks or allocation, read in the order they were made.
 */
public final class CounterSet {
    private final Map<String, LongAdder> counters = new LinkedHashMap<>();

    /** A new counter called {@code name} ({@code read_bytes}); make them all before the device runs. */
    public LongAdder add(String name) {
        LongAdder counter = new LongAdder();
        counters.put(name, counter);
        return counter;
    }

    /** Name → current sum, in the order of {@link #add}; a new map each call. */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        counters.forEach((name, counter) -> m.put(name, counter.sum()));
        return m;
    }
}
