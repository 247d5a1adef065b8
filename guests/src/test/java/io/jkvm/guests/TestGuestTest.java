package io.jkvm.guests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The committed guests are complete and internally consistent (no KVM needed). */
class TestGuestTest {
    private static final Path ASM = Path.of("src/main/asm");

    @Test
    void everySourceIsListedWithItsExpectFile() throws IOException {
        List<String> sources;
        try (Stream<Path> files = Files.list(ASM)) {
            sources = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".S"))
                    .map(n -> n.substring(0, n.length() - 2)).sorted().toList();
        }
        assertEquals(sources, TestGuest.names().stream().sorted().toList());
        for (String name : sources) assertTrue(Files.exists(ASM.resolve(name + ".expect")), name);
    }

    @Test
    void everyGuestIsSane() {
        List<TestGuest> all = TestGuest.all();
        assertTrue(all.size() >= 6, "guests: " + all.size());
        for (TestGuest g : all) {
            GuestSpec s = g.spec();
            byte[] image = g.image();
            String name = g.name();
            assertTrue(image.length > 0, name);
            assertTrue(s.entry() >= s.loadAddress() && s.entry() < s.loadAddress() + image.length,
                    name + ": entry outside the image");
            assertTrue(s.loadAddress() + image.length <= s.memorySize(), name + ": image beyond RAM");
            if (s.mode() == CpuMode.REAL)
                assertTrue(s.loadAddress() + image.length <= 0x10000, name + ": not reachable with CS=0");
            if (s.ending() instanceof Ending.Halt h) {
                // A self-printing guest carries its message.
                assertTrue(new String(image, StandardCharsets.ISO_8859_1).contains(h.serial()),
                        name + ": serial text not in the image");
                assertTrue(contains(image, (byte) 0xf4), name + ": no hlt");
                for (MemoryCheck m : h.memory())
                    assertTrue(m.address() + m.size() <= s.memorySize(), name + ": check beyond RAM");
            } else if (s.ending() instanceof Ending.Loop l) {
                assertTrue(l.exit() == Ending.ExitKind.PIO ? l.address() <= 0xffff : l.address() >= s.memorySize(),
                        name + ": loop exit address cannot exit");
            }
        }
    }

    private static boolean contains(byte[] image, byte b) {
        for (byte x : image) if (x == b) return true;
        return false;
    }
}
