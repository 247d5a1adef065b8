package io.jkvm.boot.machine;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.devices.virtio.net.MacAddress;
import org.junit.jupiter.api.Test;

class NetSpecTest {
    @Test
    void parsesEveryOption() {
        NetSpec spec = NetSpec.parse("tap=tap0,mac=02:AB:cd:00:00:01,mtu=9000,id=uplink");
        assertEquals("tap0", spec.tap());
        assertEquals("02:ab:cd:00:00:01", spec.mac().orElseThrow().toString());
        assertEquals(0xab, spec.mac().orElseThrow().octet(1));
        assertEquals(9000, spec.mtu().orElseThrow());
        assertEquals("uplink", spec.label());
    }

    @Test
    void onlyTheTapIsRequired() {
        NetSpec spec = NetSpec.parse("tap=t");
        assertTrue(spec.mac().isEmpty());
        assertTrue(spec.mtu().isEmpty());
        assertEquals("t", spec.label(), "without an id the TAP names the device");
    }

    @Test
    void macAddressBounds() {
        assertEquals(0x0200_0000_0001L, MacAddress.parse("02:00:00:00:00:01").value());
        assertThrows(IllegalArgumentException.class, () -> MacAddress.parse("03:00:00:00:00:01"), "multicast");
        assertThrows(IllegalArgumentException.class, () -> MacAddress.parse("02:00:00:00:00:1"));
        assertThrows(IllegalArgumentException.class, () -> MacAddress.parse("02:00:00:00:00:0g"));
        assertThrows(IllegalArgumentException.class, () -> new MacAddress(1L << 48));
    }
}
