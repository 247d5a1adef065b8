package io.jkvm.kvm;

import io.jkvm.kvm.sys.KvmStructs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The local APIC's register page as KVM_GET_LAPIC/KVM_SET_LAPIC carry it (struct kvm_lapic_state): the
 * first 1 KiB of the xAPIC MMIO page, 32-bit registers at 16-byte strides (Intel SDM Vol. 3 §10.4.1,
 * e.g. LVT LINT0 at 0x350, LINT1 at 0x360).
 */
public final class LapicState {
    private final ByteBuffer regs = ByteBuffer.allocate(KvmStructs.LapicState.SIZE).order(ByteOrder.LITTLE_ENDIAN);

    /** The 32-bit register at byte {@code offset} of the APIC page. */
    public int register(int offset) {
        return regs.getInt(offset);
    }

    public LapicState register(int offset, int value) {
        regs.putInt(offset, value);
        return this;
    }

    static LapicState read(ByteBuffer b) {
        LapicState s = new LapicState();
        s.regs.put(0, b, 0, KvmStructs.LapicState.SIZE);
        return s;
    }

    void write(ByteBuffer b) {
        b.put(0, regs, 0, KvmStructs.LapicState.SIZE);
    }
}
