package io.jkvm.boot.loader;

/**
 * A guest cannot be booted because of its input: the kernel image, the initrd, the command line or the
 * memory size. The message is one line that names the problem (and the file, where there is one), so
 * the CLI can print it as is and exit with status 2.
 */
public abstract sealed class BootException extends RuntimeException
        permits KernelImageException, BootConfigException {
    BootException(String message) {
        super(message);
    }

    BootException(String message, Throwable cause) {
        super(message, cause);
    }
}
