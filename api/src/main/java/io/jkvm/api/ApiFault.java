package io.jkvm.api;

/** A request the API refuses: answered 400 with {@code {"fault_message": message}}, as Firecracker does. */
public final class ApiFault extends RuntimeException {
    public ApiFault(String message) {
        super(message, null, false, false);
    }
}
