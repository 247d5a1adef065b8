package io.jkvm.boot.initramfs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where guests/linux/build-guests.sh leaves the guest artifacts: {@code $JKVM_CACHE/guest/}, with
 * {@code JKVM_CACHE} defaulting to {@code ~/.cache/jkvm}. Tests that need an artifact ask for it
 * and skip when it is absent.
 */
public record GuestCache(Path guestDirectory) {
    /** The cache of this environment ({@code JKVM_CACHE}, else {@code ~/.cache/jkvm}). */
    public static GuestCache fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    static GuestCache fromEnvironment(Map<String, String> env, Path home) {
        String root = env.get("JKVM_CACHE");
        Path base = root == null || root.isEmpty() ? home.resolve(".cache/jkvm") : Path.of(root);
        return new GuestCache(base.resolve("guest"));
    }

    /** Debian's static busybox. */
    public Optional<Path> busybox() {
        return existing("busybox");
    }

    /** jkvm's minimal kernel as a bzImage (Linux boot protocol). */
    public Optional<Path> bzImage() {
        return existing("bzImage");
    }

    /** jkvm's minimal kernel as an ELF vmlinux with a PVH entry note. */
    public Optional<Path> vmlinux() {
        return existing("vmlinux");
    }

    /** The guest agent (guests/agent), a static binary. */
    public Optional<Path> agent() {
        return existing("jkvm-agent");
    }

    /** Debian's stock cloud kernel (bzImage); it cannot run user space on PVM hosts. */
    public Optional<Path> debianCloudKernel() {
        return existing("vmlinuz-cloud");
    }

    private Optional<Path> existing(String name) {
        Path path = guestDirectory.resolve(name);
        return Files.isRegularFile(path) ? Optional.of(path) : Optional.empty();
    }
}
