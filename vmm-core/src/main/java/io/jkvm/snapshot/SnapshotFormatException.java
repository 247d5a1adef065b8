package io.jkvm.snapshot;

/**
 * A saved state that cannot be restored: wrong magic or version, a bad checksum, a section of another
 * device, a value out of range. Restoring stops before anything of the new VM runs, and the message names
 * what was wrong, so a corrupt or mismatched file is one clear error, never a half-restored VM.
 */
public final class SnapshotFormatException extends RuntimeException {
    public SnapshotFormatException(String message) {
        super(message);
    }
}
