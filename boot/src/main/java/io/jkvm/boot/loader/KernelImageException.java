package io.jkvm.boot.loader;

import java.nio.file.Path;

/** The kernel image file is missing, unreadable, truncated or not a kernel this loader can boot. */
public final class KernelImageException extends BootException {
    public KernelImageException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public KernelImageException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
