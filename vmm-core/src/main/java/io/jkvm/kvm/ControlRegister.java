package io.jkvm.kvm;

import io.jkvm.kvm.sys.KvmStructs;

/** The 64-bit system registers of struct kvm_sregs, in its order: CR0-CR8 and the EFER and APIC_BASE MSRs. */
public enum ControlRegister {
    CR0, CR2, CR3, CR4, CR8, EFER, APIC_BASE;

    int offset() {
        return KvmStructs.Sregs.CR0 + ordinal() * Long.BYTES;
    }
}
