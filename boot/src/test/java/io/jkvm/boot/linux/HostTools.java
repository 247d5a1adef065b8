package io.jkvm.boot.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Host commands the Linux tests use (e2fsprogs, iproute2): a missing one skips, or fails with JKVM_REQUIRE_TOOLS=1. */
final class HostTools {
    private HostTools() {}

    static void require(String tool) {
        for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"))
            if (Files.isExecutable(Path.of(dir, tool))) return;
        String why = tool + " is not installed (Debian: e2fsprogs, iproute2)";
        if ("1".equals(System.getenv("JKVM_REQUIRE_TOOLS"))) fail(why + " [JKVM_REQUIRE_TOOLS=1]");
        assumeTrue(false, why);
    }

    /** Runs {@code command}, fails the test on a non-zero exit, returns stdout. */
    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(2, TimeUnit.MINUTES)) fail(String.join(" ", command) + " did not finish");
        assertEquals(0, p.exitValue(), () -> String.join(" ", command) + " failed:\n" + out);
        return out;
    }

    /** An ext4 image of {@code megabytes} MiB holding the files under {@code content} (mkfs.ext4 -d). */
    static Path ext4Image(Path image, Path content, int megabytes) throws IOException, InterruptedException {
        require("mkfs.ext4");
        run("mkfs.ext4", "-q", "-F", "-d", content.toString(), image.toString(), megabytes + "M");
        return image;
    }

    /** The contents of {@code file} inside ext4 {@code image}, read on the host (debugfs). */
    static String ext4Cat(Path image, String file) throws IOException, InterruptedException {
        require("debugfs");
        return run("debugfs", "-R", "cat " + file, image.toString());
    }
}
