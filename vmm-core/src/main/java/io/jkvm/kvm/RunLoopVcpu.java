package io.jkvm.kvm;

/** What the run loop needs from a vCPU: {@link Vcpu} provides it, tests fake KVM_RUN with it. */
interface RunLoopVcpu extends VcpuControl {
    int id();

    KvmRun kvmRun();

    /** KVM_RUN once: true on an exit to decode, false when interrupted (EINTR). */
    boolean run();

    /** KVM_SET_SIGNAL_MASK with the struct kvm_signal_mask at {@code address}. */
    void setSignalMask(long address);

    /** KVM_KVMCLOCK_CTRL: tells a kvmclock guest it was paused by the host; false if it has no kvmclock. */
    boolean markClockPaused();
}
