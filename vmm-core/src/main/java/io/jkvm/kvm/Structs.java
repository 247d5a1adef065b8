package io.jkvm.kvm;

import io.jkvm.kvm.sys.Native;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Native scratch memory for one ioctl argument: a zeroed little-endian direct buffer and its address. */
final class Structs {
    private Structs() {}

    static ByteBuffer allocate(int size) {
        return ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    static long address(ByteBuffer b) {
        return Native.address(b);
    }
}
