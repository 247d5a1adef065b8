package io.jkvm.guests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed binaries are what build.sh makes of the committed sources. Skipped where GNU binutils
 * are not installed (the build itself never needs them).
 */
class GuestBinariesRebuildTest {

    @Test
    void committedBinariesMatchTheSources(@TempDir Path out) throws IOException, InterruptedException {
        assumeTrue(Stream.of("as", "ld", "objcopy").allMatch(GuestBinariesRebuildTest::onPath),
                "GNU binutils (as, ld, objcopy) not installed");
        Process p = new ProcessBuilder("sh", "build.sh", out.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), log);
        for (TestGuest g : TestGuest.all()) {
            assertArrayEquals(Files.readAllBytes(out.resolve(g.name() + ".bin")), g.image(),
                    g.name() + ".bin is stale: run guests/build.sh and commit the result");
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }
}
