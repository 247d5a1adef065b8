package io.jkvm.memory;

/** A guest-physical access that falls outside guest RAM (or overflows): never reaches host memory. */
public class GuestMemoryException extends RuntimeException {
    public GuestMemoryException(String message) {
        super(message);
    }
}
