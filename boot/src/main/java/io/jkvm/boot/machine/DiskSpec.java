package io.jkvm.boot.machine;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * One {@code --disk PATH[,readonly][,id=NAME]} argument: a raw image file for a virtio-blk device.
 * The id is what the guest reads with VIRTIO_BLK_T_GET_ID (at most 20 bytes, virtio 1.2 §5.2.6).
 */
public record DiskSpec(Path path, boolean readOnly, Optional<String> id) {
    /** virtio 1.2 §5.2.6: the device ID string is at most VIRTIO_BLK_ID_BYTES (20) bytes. */
    public static final int MAX_ID_BYTES = 20;

    public DiskSpec {
        Objects.requireNonNull(path, "path");
        id.ifPresent(name -> {
            if (name.isEmpty() || name.length() > MAX_ID_BYTES || !name.chars().allMatch(c -> c > 0x20 && c < 0x7f))
                throw new IllegalArgumentException("disk id must be 1-20 printable ASCII characters: '" + name + "'");
        });
    }

    public static DiskSpec parse(String text) {
        String[] parts = text.split(",", -1);
        if (parts[0].isEmpty()) throw new IllegalArgumentException("--disk needs a file path: '" + text + "'");
        boolean readOnly = false;
        Optional<String> id = Optional.empty();
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i];
            if (p.equals("readonly") || p.equals("ro")) {
                readOnly = true;
            } else if (p.startsWith("id=")) {
                id = Optional.of(p.substring(3));
            } else {
                throw new IllegalArgumentException("--disk: unknown option '" + p + "' (expected readonly or id=NAME)");
            }
        }
        return new DiskSpec(Path.of(parts[0]), readOnly, id);
    }
}
