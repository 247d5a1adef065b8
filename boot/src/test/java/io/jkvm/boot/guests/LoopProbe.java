package io.jkvm.boot.guests;

import io.jkvm.bus.BusDevice;
import io.jkvm.guests.Ending;
import io.jkvm.kvm.VcpuRunner;
import java.util.ArrayList;
import java.util.List;

/**
 * Sits where a looping guest's exits go, checks each against the declared write and stops the vCPU after
 * {@code limit} of them.
 */
final class LoopProbe implements BusDevice {
    private final Ending.Loop expected;
    private final int limit;
    private final List<String> unexpected = new ArrayList<>();
    private VcpuRunner runner;
    private int writes;

    LoopProbe(Ending.Loop expected, int limit) {
        this.expected = expected;
        this.limit = limit;
    }

    void stopping(VcpuRunner runner) {
        this.runner = runner;
    }

    @Override
    public long read(long offset, int size) {
        unexpected.add(String.format("read of %d bytes at +%#x", size, offset));
        return 0;
    }

    @Override
    public void write(long offset, int size, long value) {
        if (offset != 0 || size != expected.size() || value != expected.value())
            unexpected.add(String.format("write of %d bytes, value %#x at +%#x", size, value, offset));
        if (++writes == limit) runner.stop();
    }

    int writes() {
        return writes;
    }

    List<String> unexpected() {
        return unexpected;
    }
}
