package io.jkvm.boot.machine;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class VsockSpecTest {
    @Test
    void parsesCidAndSocketInAnyOrder() {
        assertEquals(new VsockSpec(3, Path.of("/tmp/v.sock")), VsockSpec.parse("cid=3,uds=/tmp/v.sock"));
        assertEquals(new VsockSpec(4294967294L, Path.of("v")), VsockSpec.parse("uds=v,cid=4294967294"));
    }

    @Test
    void rejectsReservedCidsAndMissingParts() {
        for (String bad : new String[] {"cid=2,uds=v", "cid=4294967295,uds=v", "cid=x,uds=v", "cid=3", "uds=v", "cid=3,uds="})
            assertThrows(IllegalArgumentException.class, () -> VsockSpec.parse(bad), bad);
    }

    @Test
    void rejectsSocketPathsASockaddrUnCannotHold() {
        assertThrows(IllegalArgumentException.class, () -> new VsockSpec(3, Path.of("")));
        String longest = "/" + "x".repeat(VsockSpec.MAX_UDS_BYTES - 1);
        assertEquals(Path.of(longest), new VsockSpec(3, Path.of(longest)).uds());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new VsockSpec(3, Path.of(longest + "x")));
        assertTrue(e.getMessage().contains("108 bytes"), e.getMessage());
    }
}
