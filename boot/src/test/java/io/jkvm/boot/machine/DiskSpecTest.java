package io.jkvm.boot.machine;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DiskSpecTest {
    @Test
    void parsesPathFlagsAndId() {
        assertEquals(new DiskSpec(Path.of("a.img"), false, Optional.empty()), DiskSpec.parse("a.img"));
        assertEquals(new DiskSpec(Path.of("/x/b.img"), true, Optional.of("data")), DiskSpec.parse("/x/b.img,readonly,id=data"));
        assertEquals(new DiskSpec(Path.of("c"), true, Optional.empty()), DiskSpec.parse("c,ro"));
    }

    @Test
    void rejectsBadSpecsWithAMessage() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DiskSpec.parse(",readonly")).getMessage().contains("path"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DiskSpec.parse("a,rw")).getMessage().contains("unknown option 'rw'"));
        assertThrows(IllegalArgumentException.class, () -> DiskSpec.parse("a,id=" + "x".repeat(21)));
        assertThrows(IllegalArgumentException.class, () -> DiskSpec.parse("a,id=has space"));
        assertThrows(IllegalArgumentException.class, () -> DiskSpec.parse("a,id="));
    }
}
