package io.jkvm.boot.cache;

import io.jkvm.boot.loader.BootConfigException;
import io.jkvm.boot.machine.DiskSpec;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.machine.NetSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Names a boot cache entry: SHA-256 over everything that makes one booted guest differ from another at the
 * point where init waits for its command. That is the kernel's and the initramfs's bytes, the kernel command
 * line (without the command, which comes later through the console), and the machine's shape as the guest
 * sees it: memory, vCPUs, how it finds its devices, the PVM quirk set, and each device (a disk's path, size,
 * mode and serial; a network card's MAC and MTU; the vsock CID). Host-side names the guest never sees (a
 * TAP's name, the vsock's Unix socket) are left out. A disk's contents are not: the guest has read only its
 * size by then, so a disk written between runs is fine, a disk resized is a new entry.
 *
 * <p>Every field goes into the hash with its name and length, so no two different inputs can run together
 * into the same byte stream.
 *
 * @param hex the 64 lowercase hex digits of the hash, also the entry's directory name
 */
public record BootCacheKey(String hex) {
    /** Changed whenever what the key covers, or what an entry holds, changes meaning. */
    private static final String SCHEME = "jkvm boot cache 1";
    private static final int CHUNK = 1 << 16;

    public BootCacheKey {
        if (!isKey(hex)) throw new IllegalArgumentException("not a boot cache key: " + hex);
    }

    /** Whether {@code name} is a key's hex form (the boot cache's directory holds nothing else, for long). */
    public static boolean isKey(String name) {
        return name.length() == 64 && name.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    }

    /**
     * The key of the machine {@code config} describes, whose command line is the one it boots with (the
     * command left out).
     *
     * @throws BootConfigException the kernel, the initramfs or a disk cannot be read (one line naming it)
     */
    public static BootCacheKey of(MachineConfig config) {
        MessageDigest sha = sha256();
        field(sha, "scheme", SCHEME);
        file(sha, "kernel", config.kernel());
        field(sha, "initrd present", String.valueOf(config.initrd().isPresent()));
        if (config.initrd().isPresent()) file(sha, "initrd", config.initrd().get());
        field(sha, "cmdline", config.cmdline());
        field(sha, "memory", String.valueOf(config.memory()));
        field(sha, "cpus", String.valueOf(config.cpus()));
        field(sha, "discovery", config.discovery().name());
        field(sha, "rng", String.valueOf(config.rng()));
        field(sha, "pvm quirks", String.valueOf(config.forcePvmQuirks()));
        for (DiskSpec disk : config.disks()) {
            field(sha, "disk", disk.path().toAbsolutePath().normalize().toString());
            field(sha, "disk size", String.valueOf(size("disk", disk.path())));
            field(sha, "disk readonly", String.valueOf(disk.readOnly()));
            field(sha, "disk id", disk.id().orElse(""));
        }
        for (NetSpec net : config.nets()) {
            field(sha, "net mac", net.mac().map(Object::toString).orElse(""));
            field(sha, "net mtu", net.mtu().isPresent() ? String.valueOf(net.mtu().getAsInt()) : "");
        }
        field(sha, "vsock cid", config.vsock().map(v -> String.valueOf(v.cid())).orElse(""));
        return new BootCacheKey(HexFormat.of().formatHex(sha.digest()));
    }

    private static void field(MessageDigest sha, String name, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        label(sha, name, bytes.length);
        sha.update(bytes);
    }

    private static void file(MessageDigest sha, String name, Path path) {
        label(sha, name, size(name, path));
        try (InputStream in = Files.newInputStream(path)) {
            byte[] buffer = new byte[CHUNK];
            for (int n; (n = in.read(buffer)) > 0; ) sha.update(buffer, 0, n);
        } catch (IOException e) {
            throw unreadable(name, path, e);
        }
    }

    /** The field's name and the length of its value, so that fields cannot run into each other. */
    private static void label(MessageDigest sha, String name, long length) {
        sha.update(name.getBytes(StandardCharsets.UTF_8));
        sha.update(ByteBuffer.allocate(1 + Long.BYTES).put((byte) 0).putLong(length).array());
    }

    private static long size(String what, Path path) {
        try {
            return Files.size(path);
        } catch (IOException e) {
            throw unreadable(what, path, e);
        }
    }

    private static BootConfigException unreadable(String what, Path path, IOException e) {
        String why = e instanceof NoSuchFileException ? "no such file" : e.getMessage();
        return new BootConfigException("boot cache: cannot read the " + what + " " + path + " (" + why + ")");
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every Java platform has SHA-256 (MessageDigest)", e);
        }
    }

    @Override
    public String toString() {
        return hex;
    }

    /** The first 12 hex digits, for messages. */
    public String shortForm() {
        return hex.substring(0, 12);
    }

    static Optional<BootCacheKey> parse(String name) {
        return isKey(name) ? Optional.of(new BootCacheKey(name)) : Optional.empty();
    }
}
