package io.jkvm.boot.loader;

/**
 * The boot configuration cannot work: memory size malformed or too small, command line too long,
 * initrd missing or not fitting into guest RAM.
 */
public final class BootConfigException extends BootException {
    public BootConfigException(String message) {
        super(message);
    }

    public BootConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
