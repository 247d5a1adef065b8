package io.jkvm.boot;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jkvm.boot.initramfs.GuestCache;
import io.jkvm.boot.initramfs.Initramfs;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;

/**
 * The real guest artifacts (kernels, busybox) that guests/linux/build-guests.sh builds into the cache
 * ({@link GuestCache}). A missing one skips the test with one line, unless JKVM_REQUIRE_GUESTS=1
 * (set by .ci/run, which builds them), which makes it fail.
 */
public final class GuestArtifacts {
    private static final GuestCache CACHE = GuestCache.fromEnvironment();

    private GuestArtifacts() {}

    public static Path bzImage() {
        return require("bzImage", GuestCache::bzImage);
    }

    public static Path vmlinux() {
        return require("vmlinux", GuestCache::vmlinux);
    }

    public static Path debianCloudKernel() {
        return require("vmlinuz-cloud", GuestCache::debianCloudKernel);
    }

    public static Path busybox() {
        return require("busybox", GuestCache::busybox);
    }

    public static Path agent() {
        return require("jkvm-agent", GuestCache::agent);
    }

    /** Writes jkvm's default busybox initramfs to {@code file}, with the guest agent if {@code withAgent}. */
    public static Path defaultInitramfs(Path file, boolean withAgent) throws IOException {
        Optional<Path> agent = withAgent ? Optional.of(agent()) : Optional.empty();
        try (OutputStream out = Files.newOutputStream(file)) {
            Initramfs.writeBusybox(busybox(), agent, out);
        }
        return file;
    }

    /** The artifact with file name {@code name} in the cache (vmlinuz-cloud, bzImage, vmlinux, busybox, jkvm-agent). */
    public static Path named(String name) {
        return switch (name) {
            case "vmlinuz-cloud" -> debianCloudKernel();
            case "bzImage" -> bzImage();
            case "vmlinux" -> vmlinux();
            case "busybox" -> busybox();
            case "jkvm-agent" -> agent();
            default -> throw new IllegalArgumentException("no guest artifact " + name);
        };
    }

    private static Path require(String name, Function<GuestCache, Optional<Path>> lookup) {
        Optional<Path> file = lookup.apply(CACHE);
        if (file.isPresent()) return file.get();
        String why = CACHE.guestDirectory().resolve(name) + " is missing: run guests/linux/build-guests.sh first";
        if ("1".equals(System.getenv("JKVM_REQUIRE_GUESTS"))) fail(why + " [JKVM_REQUIRE_GUESTS=1]");
        assumeTrue(false, why);
        throw new AssertionError("unreachable");
    }
}
