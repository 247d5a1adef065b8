package io.jkvm.kvm;

/** A vCPU's multiprocessing state (struct kvm_mp_state, KVM_MP_STATE_* in linux/kvm.h, by value). */
public enum MpState {
    RUNNABLE, UNINITIALIZED, INIT_RECEIVED, HALTED, SIPI_RECEIVED, STOPPED, CHECK_STOP, OPERATING, LOAD,
    AP_RESET_HOLD, SUSPENDED;

    /** The KVM_MP_STATE_* value. */
    public int value() {
        return ordinal();
    }

    public static MpState of(int value) {
        MpState[] all = values();
        if (value < 0 || value >= all.length) throw new IllegalArgumentException("unknown KVM_MP_STATE " + value);
        return all[value];
    }
}
