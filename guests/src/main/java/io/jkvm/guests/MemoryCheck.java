package io.jkvm.guests;

/** An expected little-endian value of {@code size} bytes (1, 2, 4 or 8) at a guest-physical address. */
public record MemoryCheck(long address, int size, long value) {
    public MemoryCheck {
        if (size != 1 && size != 2 && size != 4 && size != 8)
            throw new IllegalArgumentException("memory check size must be 1, 2, 4 or 8: " + size);
        if (size < 8 && (value >>> (size * 8)) != 0)
            throw new IllegalArgumentException(String.format("%#x does not fit in %d bytes", value, size));
    }
}
