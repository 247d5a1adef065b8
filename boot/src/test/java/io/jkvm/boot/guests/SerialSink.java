package io.jkvm.boot.guests;

import io.jkvm.bus.BusDevice;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The test guests' serial port: collects bytes written to the transmit holding register (offset 0 of
 * COM1) and records any other access, which the test guests never make, as unexpected.
 */
final class SerialSink implements BusDevice {
    static final int COM1 = 0x3f8;
    static final int PORTS = 8;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final List<String> unexpected = new ArrayList<>();

    @Override
    public long read(long offset, int size) {
        unexpected.add(String.format("serial read of %d bytes at +%d", size, offset));
        return 0;
    }

    @Override
    public void write(long offset, int size, long value) {
        if (offset == 0 && size == 1) out.write((int) value);
        else unexpected.add(String.format("serial write of %d bytes at +%d", size, offset));
    }

    String text() {
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    List<String> unexpected() {
        return unexpected;
    }
}
