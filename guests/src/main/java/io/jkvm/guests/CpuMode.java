package io.jkvm.guests;

/** The processor mode a test guest's first instruction expects; the runner sets it up before KVM_RUN. */
public enum CpuMode {
    /** 16-bit real mode, all segments at base 0. */
    REAL("real"),
    /** 32-bit protected mode, flat 4 GiB code and data segments, paging off. */
    PROTECTED32("protected32"),
    /** 64-bit long mode, identity-mapped page tables, 64-bit code segment. */
    LONG64("long64");

    private final String key;

    CpuMode(String key) {
        this.key = key;
    }

    /** The value of {@code mode=} in an .expect file. */
    public String key() {
        return key;
    }

    static CpuMode ofKey(String key) {
        for (CpuMode m : values()) if (m.key.equals(key)) return m;
        throw new IllegalArgumentException("unknown mode '" + key + "'");
    }
}
