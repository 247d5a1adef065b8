package io.jkvm.boot.guests;

import io.jkvm.bus.BusDevice;
import java.util.ArrayList;
import java.util.List;

/**
 * The MMIO test device of guests/README.md: 32-bit registers ID (offset 0, read-only, "jkvm"),
 * SCRATCH (offset 4, read/write) and INVERTED (offset 8, reads ~SCRATCH, so a read-back proves a device
 * answered, not RAM). Any other access is recorded as unexpected.
 */
final class TestRegisterDevice implements BusDevice {
    static final long SIZE = 0x1000;
    static final int REG_ID = 0x0, REG_SCRATCH = 0x4, REG_INVERTED = 0x8;
    static final long DEVICE_ID = 0x6d76_6b6aL;

    private int scratch;
    private final List<String> unexpected = new ArrayList<>();

    @Override
    public long read(long offset, int size) {
        if (size == 4) {
            if (offset == REG_ID) return DEVICE_ID;
            if (offset == REG_SCRATCH) return Integer.toUnsignedLong(scratch);
            if (offset == REG_INVERTED) return Integer.toUnsignedLong(~scratch);
        }
        unexpected.add(String.format("test device read of %d bytes at +%#x", size, offset));
        return 0;
    }

    @Override
    public void write(long offset, int size, long value) {
        if (size == 4 && offset == REG_SCRATCH) scratch = (int) value;
        else if (!(size == 4 && offset == REG_ID)) // writes to ID are legal and ignored
            unexpected.add(String.format("test device write of %d bytes at +%#x", size, offset));
    }

    List<String> unexpected() {
        return unexpected;
    }
}
