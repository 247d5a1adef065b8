package io.jkvm.kvm;

import static io.jkvm.kvm.sys.KvmStructs.Run.*;

import io.jkvm.kvm.sys.RawMemory;
import java.util.Objects;

/**
 * A view of one vCPU's struct kvm_run (api.rst §5 "The kvm_run structure") that reads and writes the
 * fields in place. It is created once per vCPU; decoding an exit allocates nothing. The kernel fills it,
 * so offsets it gives (io.data_offset) are still checked against the mapping's size.
 */
public final class KvmRun {
    private final long base;
    private final long size;

    /** A view of {@code size} bytes at {@code base} holding a struct kvm_run (a vCPU's mapping, or a test buffer). */
    KvmRun(long base, long size) {
        if (size < SIZE) throw new IllegalArgumentException("kvm_run needs " + SIZE + " bytes, got " + size);
        this.base = base;
        this.size = size;
    }

    public int exitReasonCode() { return RawMemory.getInt(base + EXIT_REASON); }
    public ExitReason exitReason() { return ExitReason.of(exitReasonCode()); }

    /** immediate_exit: when set, KVM_RUN returns EINTR at once instead of entering the guest. */
    public void setImmediateExit(boolean value) { RawMemory.putByte(base + IMMEDIATE_EXIT, (byte) (value ? 1 : 0)); }
    public boolean immediateExit() { return RawMemory.getByte(base + IMMEDIATE_EXIT) != 0; }

    // KVM_EXIT_IO
    public boolean ioIsOut() { return RawMemory.getByte(base + IO_DIRECTION) == KVM_EXIT_IO_OUT; }
    public int ioSize() { return Byte.toUnsignedInt(RawMemory.getByte(base + IO_SIZE)); }
    public int ioPort() { return Short.toUnsignedInt(RawMemory.getShort(base + IO_PORT)); }
    public int ioCount() { return RawMemory.getInt(base + IO_COUNT); }
    public long ioDataOffset() { return RawMemory.getLong(base + IO_DATA_OFFSET); }

    /** True if the {@code count} items of {@code size} bytes at data_offset lie inside the mapping. */
    public boolean ioDataInBounds() {
        long offset = ioDataOffset(), bytes = (long) Integer.toUnsignedLong(ioCount()) * ioSize();
        return offset >= 0 && offset <= size && bytes <= size - offset;
    }

    /** Item {@code i} of the I/O data (little-endian, {@link #ioSize()} bytes). Check {@link #ioDataInBounds()} first. */
    public long ioData(int i) { return load(base + ioDataOffset() + (long) i * ioSize(), ioSize()); }
    public void ioData(int i, long value) { store(base + ioDataOffset() + (long) i * ioSize(), ioSize(), value); }

    // KVM_EXIT_MMIO
    public long mmioPhysAddr() { return RawMemory.getLong(base + MMIO_PHYS_ADDR); }
    public int mmioLen() { return RawMemory.getInt(base + MMIO_LEN); }
    public boolean mmioIsWrite() { return RawMemory.getByte(base + MMIO_IS_WRITE) != 0; }
    /** The MMIO data, {@link #mmioLen()} (1-8) bytes, little-endian. */
    public long mmioData() { return load(base + MMIO_DATA, mmioLen()); }
    public void mmioData(long value) { store(base + MMIO_DATA, mmioLen(), value); }

    // KVM_EXIT_FAIL_ENTRY
    public long failEntryHardwareReason() { return RawMemory.getLong(base + FAIL_ENTRY_HARDWARE_REASON); }
    public int failEntryCpu() { return RawMemory.getInt(base + FAIL_ENTRY_CPU); }

    // KVM_EXIT_INTERNAL_ERROR
    public int internalSuberror() { return RawMemory.getInt(base + INTERNAL_SUBERROR); }
    /** How many internal.data words are valid, capped at the 16 the struct holds. */
    public int internalNdata() {
        return (int) Math.min(Integer.toUnsignedLong(RawMemory.getInt(base + INTERNAL_NDATA)), INTERNAL_DATA_MAX);
    }
    public long internalData(int i) {
        return RawMemory.getLong(base + INTERNAL_DATA + (long) Objects.checkIndex(i, INTERNAL_DATA_MAX) * Long.BYTES);
    }
    public long emulationFailureFlags() { return RawMemory.getLong(base + EMULATION_FAILURE_FLAGS); }
    /** Instruction bytes KVM fetched for a failed emulation: 0 unless the INSTRUCTION_BYTES flag is set; at most 15. */
    public int emulationFailureInsnSize() {
        if ((emulationFailureFlags() & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) == 0) return 0;
        return Math.min(Byte.toUnsignedInt(RawMemory.getByte(base + EMULATION_FAILURE_INSN_SIZE)),
                EMULATION_FAILURE_INSN_BYTES_MAX);
    }
    public int emulationFailureInsnByte(int i) {
        return Byte.toUnsignedInt(RawMemory.getByte(base + EMULATION_FAILURE_INSN_BYTES
                + Objects.checkIndex(i, EMULATION_FAILURE_INSN_BYTES_MAX)));
    }

    // KVM_EXIT_SYSTEM_EVENT
    public int systemEventType() { return RawMemory.getInt(base + SYSTEM_EVENT_TYPE); }

    /** Little-endian load of 1-8 bytes. */
    private static long load(long at, int size) {
        return switch (size) {
            case 1 -> Byte.toUnsignedLong(RawMemory.getByte(at));
            case 2 -> Short.toUnsignedLong(RawMemory.getShort(at));
            case 4 -> Integer.toUnsignedLong(RawMemory.getInt(at));
            case 8 -> RawMemory.getLong(at);
            default -> {
                long v = 0;
                for (int i = Math.min(size, Long.BYTES) - 1; i >= 0; i--) v = v << 8 | Byte.toUnsignedLong(RawMemory.getByte(at + i));
                yield v;
            }
        };
    }

    private static void store(long at, int size, long value) {
        switch (size) {
            case 1 -> RawMemory.putByte(at, (byte) value);
            case 2 -> RawMemory.putShort(at, (short) value);
            case 4 -> RawMemory.putInt(at, (int) value);
            case 8 -> RawMemory.putLong(at, value);
            default -> {
                for (int i = 0; i < Math.min(size, Long.BYTES); i++) RawMemory.putByte(at + i, (byte) (value >>> 8 * i));
            }
        }
    }
}
