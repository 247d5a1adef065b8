package io.jkvm.bus;

/**
 * A device as a bus sees it: reads and writes at an offset into the range it was registered on. It never
 * sees the absolute port or guest-physical address, so it can sit anywhere and be tested without KVM.
 * Values are little-endian in the low {@code size} bytes; {@code size} is 1, 2, 4 or 8.
 */
public interface BusDevice {
    long read(long offset, int size);

    void write(long offset, int size, long value);

    /** A short name for exit traces and metrics, after the hardware: {@code uart}, {@code i8042}, {@code virtio-blk}. */
    default String name() {
        return getClass().getSimpleName();
    }

    /**
     * For exit traces, what the access just made at {@code offset} touched, named as the datasheet or spec
     * does ({@code THR}, {@code QueueNotify q0}); {@code value} is what was written or read. Called after the
     * access, never on the exit path of an untraced VM. Without names: the offset, {@code +0x5}.
     */
    default String register(long offset, boolean write, long value) {
        return String.format("+%#x", offset);
    }
}
