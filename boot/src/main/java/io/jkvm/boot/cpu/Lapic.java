package io.jkvm.boot.cpu;

import io.jkvm.kvm.LapicState;

/**
 * Local APIC set-up for a PC: LINT0 delivers ExtINT (the 8259 PIC's output, "virtual wire" mode) and LINT1
 * delivers NMI, as the MP specification's default configuration wires them (MP spec 1.4 §3.6.2.2, Intel
 * SDM Vol. 3A §10.5.1). Only the delivery-mode field changes; vector and mask bits stay as KVM reset them.
 */
public final class Lapic {
    /** LVT LINT0 register offset in the APIC page (SDM Table 10-1). */
    public static final int LVT_LINT0 = 0x350;
    /** LVT LINT1 register offset in the APIC page. */
    public static final int LVT_LINT1 = 0x360;
    /** LVT delivery mode, bits 10:8 (SDM Figure 10-8). */
    private static final int DELIVERY_MODE_MASK = 0b111_0000_0000;
    public static final int DELIVERY_MODE_NMI = 0b100;
    public static final int DELIVERY_MODE_EXTINT = 0b111;

    private Lapic() {}

    /** Changes {@code state} (from Vcpu.getLapic(), to go back through Vcpu.setLapic()) in place. */
    public static LapicState configureLocalInterrupts(LapicState state) {
        state.register(LVT_LINT0, withDeliveryMode(state.register(LVT_LINT0), DELIVERY_MODE_EXTINT));
        state.register(LVT_LINT1, withDeliveryMode(state.register(LVT_LINT1), DELIVERY_MODE_NMI));
        return state;
    }

    static int withDeliveryMode(int lvt, int mode) {
        return (lvt & ~DELIVERY_MODE_MASK) | (mode << 8);
    }
}
