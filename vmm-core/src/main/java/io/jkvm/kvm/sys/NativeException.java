package io.jkvm.kvm.sys;

/** A failed system call: names the call and carries errno and its text. */
public class NativeException extends RuntimeException {
    private final int errno;

    public NativeException(String call, int errno) {
        super(call + " failed: " + Native.strerror(errno) + " (errno " + errno + ")");
        this.errno = errno;
    }

    /** Throws for the current errno; use right after a call that returned -1. */
    public static NativeException last(String call) {
        return new NativeException(call, Native.errno());
    }

    public int errno() {
        return errno;
    }
}
