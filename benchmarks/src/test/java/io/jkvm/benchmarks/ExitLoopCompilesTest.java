package io.jkvm.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The C baseline of exit-compare.sh compiles without warnings where gcc and the KVM UAPI header exist. */
class ExitLoopCompilesTest {

    @Test
    void exitLoopCompiles(@TempDir Path out) throws IOException, InterruptedException {
        assumeTrue(onPath("gcc"), "gcc not installed");
        assumeTrue(Files.exists(Path.of("/usr/include/linux/kvm.h")), "linux/kvm.h missing (linux-libc-dev)");
        Process p = new ProcessBuilder("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
                out.resolve("exit-loop").toString(), "src/main/c/exit-loop.c").redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), log);
        assertEquals("", log);
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }
}
