package io.jkvm.bus;

/**
 * A device as a bus sees it: reads and writes at an offset into the range it was registered on. It never
 * sees the absolute port or guest-physical address, so it can sit anywhere and be tested without KVM.
 * Values are little-endian in the low {@code size} bytes; {@code size} is 1, 2, 4 or 8.
 */
public interface BusDevice {
    long read(long offset, int size);

    void write(long offset, int size, long value);
}
