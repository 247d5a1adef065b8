package io.jkvm.devices.legacy;

import io.jkvm.bus.BusDevice;

/**
 * A device whose registers are all one byte wide, as ISA I/O devices are. A wider access is split into
 * byte accesses at consecutive offsets, low byte first, the way an ISA bus splits a 16-bit cycle into
 * two 8-bit cycles; an offset the device does not decode reads as {@code 0xFF} (a floating data bus).
 */
abstract class ByteRegisters implements BusDevice {
    static final int FLOATING_BUS = 0xFF;

    /** The byte at {@code offset}; any {@code offset} ≥ 0, out-of-range ones read {@link #FLOATING_BUS}. */
    abstract int readByte(long offset);

    /** Writes the low 8 bits of {@code value}; out-of-range offsets are ignored. */
    abstract void writeByte(long offset, int value);

    @Override
    public final long read(long offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++)
            value |= (long) (readByte(offset + i) & 0xFF) << (8 * i);
        return value;
    }

    @Override
    public final void write(long offset, int size, long value) {
        for (int i = 0; i < size; i++)
            writeByte(offset + i, (int) (value >>> (8 * i)) & 0xFF);
    }
}
