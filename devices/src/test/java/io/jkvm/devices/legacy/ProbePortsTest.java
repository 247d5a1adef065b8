package io.jkvm.devices.legacy;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.bus.Bus;
import org.junit.jupiter.api.Test;

class ProbePortsTest {
    @Test
    void quietPortsReadTheirValueAtAnyWidthAndIgnoreWrites() {
        QuietPort ones = QuietPort.readingOnes();
        QuietPort zeros = QuietPort.readingZeros();
        ones.write(0, 1, 0x12);
        zeros.write(0, 4, 0x12345678);
        assertEquals(0xFF, ones.read(0, 1));
        assertEquals(0xFFFF_FFFFL, ones.read(0, 4));
        assertEquals(0, zeros.read(0, 2));
    }

    @Test
    void quietPortsKeepTheBusUnclaimedCountersClean() {
        Bus pio = new Bus("pio");
        pio.register(0xED, 1, QuietPort.readingOnes());
        pio.write(0xED, 1, 0);
        assertEquals(0xFF, pio.read(0xED, 1));
        assertEquals(0, pio.unclaimedReads() + pio.unclaimedWrites());
        assertEquals(0xFF, pio.read(0x2F8, 1), "COM2 is simply absent");
        assertEquals(1, pio.unclaimedReads());
    }

    @Test
    void postCodePortLatchesTheLastCode() {
        PostCodePort port80 = new PostCodePort();
        assertEquals(0, port80.lastCode());
        port80.write(0, 1, 0x42);
        port80.write(0, 1, 0xAB);
        assertEquals(0xAB, port80.lastCode());
        assertEquals(0xAB, port80.read(0, 1));
        assertEquals(0xFFAB, port80.read(0, 2), "a wider read runs past the one-byte latch");
    }
}
