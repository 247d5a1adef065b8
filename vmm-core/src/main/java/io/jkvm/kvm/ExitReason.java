package io.jkvm.kvm;

import java.util.Arrays;

/**
 * kvm_run.exit_reason (KVM_EXIT_* in linux/kvm.h). Architecture-specific reasons of other architectures
 * and codes newer than this list map to {@link #UNRECOGNIZED}.
 */
public enum ExitReason {
    UNKNOWN(0), EXCEPTION(1), IO(2), HYPERCALL(3), DEBUG(4), HLT(5), MMIO(6), IRQ_WINDOW_OPEN(7), SHUTDOWN(8),
    FAIL_ENTRY(9), INTR(10), SET_TPR(11), TPR_ACCESS(12), NMI(16), INTERNAL_ERROR(17), WATCHDOG(21),
    SYSTEM_EVENT(24), IOAPIC_EOI(26), HYPERV(27), X86_RDMSR(29), X86_WRMSR(30), DIRTY_RING_FULL(31),
    AP_RESET_HOLD(32), X86_BUS_LOCK(33), XEN(34), NOTIFY(37),
    /** A code not in this list. */
    UNRECOGNIZED(-1);

    private static final ExitReason[] BY_CODE = new ExitReason[64];

    static {
        Arrays.fill(BY_CODE, UNRECOGNIZED);
        for (ExitReason r : values()) if (r.code >= 0) BY_CODE[r.code] = r;
    }

    private final int code;

    ExitReason(int code) {
        this.code = code;
    }

    /** The KVM_EXIT_* value, -1 for {@link #UNRECOGNIZED}. */
    public int code() {
        return code;
    }

    /** The reason for a raw exit_reason; a table lookup, no allocation. */
    public static ExitReason of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : UNRECOGNIZED;
    }
}
