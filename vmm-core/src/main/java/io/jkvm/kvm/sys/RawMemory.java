package io.jkvm.kvm.sys;

import com.kenai.jffi.MemoryIO;

/**
 * Unchecked loads and stores at host addresses (little-endian, any alignment: x86). Only
 * {@code io.jkvm.memory.GuestMemory} calls these, after it has bounds-checked the guest address.
 */
public final class RawMemory {
    private static final MemoryIO IO = MemoryIO.getInstance();

    private RawMemory() {}

    public static byte getByte(long address) { return IO.getByte(address); }
    public static short getShort(long address) { return IO.getShort(address); }
    public static int getInt(long address) { return IO.getInt(address); }
    public static long getLong(long address) { return IO.getLong(address); }
    public static void putByte(long address, byte value) { IO.putByte(address, value); }
    public static void putShort(long address, short value) { IO.putShort(address, value); }
    public static void putInt(long address, int value) { IO.putInt(address, value); }
    public static void putLong(long address, long value) { IO.putLong(address, value); }
    public static void get(long address, byte[] dst, int off, int len) { IO.getByteArray(address, dst, off, len); }
    public static void put(long address, byte[] src, int off, int len) { IO.putByteArray(address, src, off, len); }
    public static void copy(long from, long to, long len) { IO.copyMemory(from, to, len); }
    public static void fill(long address, long len, byte value) { IO.setMemory(address, len, value); }
}
