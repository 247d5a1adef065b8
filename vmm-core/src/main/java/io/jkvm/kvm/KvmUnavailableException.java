package io.jkvm.kvm;

/**
 * /dev/kvm cannot be used: missing, not permitted, not a KVM device, or the wrong API version. The
 * message is one line meant for the user (the CLI prints it and exits with status 2).
 */
public final class KvmUnavailableException extends RuntimeException {
    public KvmUnavailableException(String message) {
        super(message);
    }
}
