package io.jkvm.kvm;

import io.jkvm.kvm.sys.KvmStructs;

/** The segment registers of struct kvm_sregs, in its order: each a kvm_segment. */
public enum SegmentRegister {
    CS, DS, ES, FS, GS, SS, TR, LDT;

    int offset() {
        return ordinal() * KvmStructs.Segment.SIZE;
    }
}
