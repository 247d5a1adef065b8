package io.jkvm.kvm;

/** One model-specific register and its value (struct kvm_msr_entry). */
public record MsrEntry(int index, long data) {}
