package io.jkvm.kvm;

import java.nio.ByteBuffer;

/** A vCPU's general-purpose registers, RIP and RFLAGS (struct kvm_regs). Mutable; {@link #set} chains. */
public final class Regs {
    private final long[] values = new long[Register.values().length];

    public long get(Register r) {
        return values[r.ordinal()];
    }

    public Regs set(Register r, long value) {
        values[r.ordinal()] = value;
        return this;
    }

    static Regs read(ByteBuffer kvmRegs) {
        Regs regs = new Regs();
        for (Register r : Register.values()) regs.values[r.ordinal()] = kvmRegs.getLong(r.offset());
        return regs;
    }

    void write(ByteBuffer kvmRegs) {
        for (Register r : Register.values()) kvmRegs.putLong(r.offset(), values[r.ordinal()]);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Register r : Register.values()) {
            if (sb.length() > 0) sb.append(r.ordinal() % 4 == 0 ? "\n" : "  ");
            sb.append(String.format("%-6s=%016x", r.name().toLowerCase(), values[r.ordinal()]));
        }
        return sb.toString();
    }
}
