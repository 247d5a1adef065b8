package io.jkvm.guests;

import java.util.Locale;

/** A general-purpose register an .expect file may check, in the order of {@code struct kvm_regs}. */
public enum Register {
    RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP, R8, R9, R10, R11, R12, R13, R14, R15, RIP, RFLAGS;

    /** The name after {@code reg.} in an .expect file, e.g. {@code rbx}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    static Register ofKey(String key) {
        for (Register r : values()) if (r.key().equals(key)) return r;
        throw new IllegalArgumentException("unknown register '" + key + "'");
    }
}
