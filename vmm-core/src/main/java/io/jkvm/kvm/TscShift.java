package io.jkvm.kvm;

/**
 * Makes a restored guest's TSC run on from where it was saved, on every vCPU alike. The guest TSC is the
 * (scaled) host TSC plus a per-vCPU offset (KVM_VCPU_TSC_OFFSET). Saved with each vCPU are its TSC and its
 * offset, so the host TSC at that save is {@code tsc - offset}. The first vCPU restored measures the new
 * host's TSC the same way and fixes one shift, {@code savedHost - restoredHost}; every vCPU's offset becomes
 * its saved offset plus that shift. The vCPUs keep the offsets they had relative to each other (equal
 * offsets are what KVM's master clock needs), and each guest TSC continues from its value at the first
 * vCPU's save: no later than anything the guest read, since every vCPU is paused before any is saved.
 * <p>
 * Writing IA32_TSC instead (KVM_SET_MSRS) goes through KVM's TSC synchronisation (kvm_synchronize_tsc in
 * arch/x86/kvm/x86.c): a value within a second of what KVM expects is taken as an attempt to synchronise
 * with the other vCPUs and replaced by the VM's current offset, which can set the guest TSC back.
 */
final class TscShift {
    private boolean fixed;
    private long shift;

    /**
     * The shift of a VM being restored: fixed by the first call from the host TSC at save and now (each as
     * guest TSC minus offset of the vCPU restored first), then the same for every vCPU.
     */
    synchronized long shift(long savedHostTsc, long currentHostTsc) {
        if (!fixed) {
            shift = savedHostTsc - currentHostTsc;
            fixed = true;
        }
        return shift;
    }
}
