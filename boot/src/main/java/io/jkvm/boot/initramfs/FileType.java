package io.jkvm.boot.initramfs;

/**
 * The file types a newc cpio entry can carry, as the S_IFMT bits of its mode field
 * (inode(7); Linux Documentation/driver-api/early-userspace/buffer-format.rst, "c_mode").
 */
public enum FileType {
    FIFO(0_010000),
    CHARACTER_DEVICE(0_020000),
    DIRECTORY(0_040000),
    BLOCK_DEVICE(0_060000),
    REGULAR(0_100000),
    SYMLINK(0_120000);

    /** S_IFMT: the file-type bits of st_mode. */
    static final int TYPE_MASK = 0_170000;

    private final int modeBits;

    FileType(int modeBits) {
        this.modeBits = modeBits;
    }

    /** The S_IFMT bits of this type. */
    public int modeBits() {
        return modeBits;
    }

    /** The type whose S_IFMT bits {@code mode} carries; sockets and unknown types are rejected. */
    public static FileType ofMode(int mode) {
        int type = mode & TYPE_MASK;
        for (FileType t : values()) {
            if (t.modeBits == type) return t;
        }
        throw new IllegalArgumentException("unsupported file type in mode 0" + Integer.toOctalString(mode));
    }
}
