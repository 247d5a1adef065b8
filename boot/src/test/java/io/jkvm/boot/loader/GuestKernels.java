package io.jkvm.boot.loader;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the real guest kernels the build fetches or builds: {@code $JKVM_GUEST_DIR}, else
 * {@code ${JKVM_CACHE:-~/.cache/jkvm}/guest}. A missing file skips the test, unless
 * {@code JKVM_REQUIRE_GUESTS=1}, which makes it fail.
 */
final class GuestKernels {
    private GuestKernels() {}

    static Path dir() {
        String guestDir = System.getenv("JKVM_GUEST_DIR");
        if (guestDir != null && !guestDir.isBlank()) return Path.of(guestDir);
        String cache = System.getenv("JKVM_CACHE");
        Path base = cache != null && !cache.isBlank() ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache", "jkvm");
        return base.resolve("guest");
    }

    /** The guest file {@code name}, or a skipped (or, with JKVM_REQUIRE_GUESTS=1, failed) test. */
    static Path require(String name) {
        Path file = dir().resolve(name);
        if (!Files.isRegularFile(file)) {
            String why = file + " is missing: fetch/build the guest kernels first (or set JKVM_GUEST_DIR)";
            if ("1".equals(System.getenv("JKVM_REQUIRE_GUESTS"))) fail(why + " [JKVM_REQUIRE_GUESTS=1]");
            assumeTrue(false, why);
        }
        return file;
    }
}
