package io.jkvm.kvm;

import java.util.Map;
import java.util.TreeMap;

/**
 * Counts events per 64-bit address (port or guest-physical address) in a fixed open-addressing table:
 * counting allocates nothing. Addresses beyond its capacity are counted together as overflow.
 */
final class AddressCounter {
    private final long[] keys;
    private final long[] counts; // 0 marks an empty slot
    private final int limit;
    private int used;
    private long overflow;

    AddressCounter(int capacityPowerOfTwo) {
        if (Integer.bitCount(capacityPowerOfTwo) != 1) throw new IllegalArgumentException("capacity must be a power of two");
        keys = new long[capacityPowerOfTwo];
        counts = new long[capacityPowerOfTwo];
        limit = capacityPowerOfTwo / 4 * 3;
    }

    void increment(long address) {
        int mask = keys.length - 1;
        for (int i = mix(address) & mask; ; i = (i + 1) & mask) {
            if (counts[i] == 0) {
                if (used == limit) {
                    overflow++;
                    return;
                }
                used++;
                keys[i] = address;
                counts[i] = 1;
                return;
            }
            if (keys[i] == address) {
                counts[i]++;
                return;
            }
        }
    }

    private static int mix(long key) {
        long h = key * 0x9E3779B97F4A7C15L; // Fibonacci hashing
        return (int) (h ^ h >>> 32);
    }

    /** Address → count, in unsigned address order. */
    Map<Long, Long> snapshot() {
        Map<Long, Long> m = new TreeMap<>(Long::compareUnsigned);
        for (int i = 0; i < keys.length; i++) if (counts[i] != 0) m.put(keys[i], counts[i]);
        return m;
    }

    /** Events at addresses that found no free slot. */
    long overflow() {
        return overflow;
    }
}
