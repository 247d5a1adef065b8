package io.jkvm.kvm;

/** What exit handling may do to the vCPU besides reading kvm_run; a seam for tests without KVM. */
interface VcpuControl {
    /** RIP += {@code length}. */
    void skipInstruction(int length);

    /** Delivers {@code exception} on the next entry. */
    void injectException(VcpuEvents.ExceptionEvent exception);

    /** Registers and special registers, readable. */
    String registerDump();
}
