package io.jkvm.devices.virtio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class InterruptStatusTest {
    private final InterruptRecorder line = new InterruptRecorder();
    private final InterruptStatus status = new InterruptStatus(line);

    @Test
    void anEventOfTheEpochBeforeAResetIsDropped() {
        int before = status.epoch();
        status.raise(0b01, before);
        assertEquals(0b01, status.read());
        assertEquals(1, line.count());

        status.reset();
        assertEquals(0, status.read());
        status.raise(0b01, before); // an I/O thread that started before the reset
        status.raise(0b10, before);
        assertEquals(0, status.read());
        assertEquals(1, line.count(), "no edge either");

        status.raise(0b10, status.epoch());
        assertEquals(0b10, status.read());
        status.acknowledge(0b10);
        assertEquals(0, status.read());
        assertEquals(2, line.count());
    }
}
