package io.jkvm.kvm;

/** The registers of struct kvm_regs, in its order (asm/kvm.h): each is 8 bytes at {@code ordinal() * 8}. */
public enum Register {
    RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP, R8, R9, R10, R11, R12, R13, R14, R15, RIP, RFLAGS;

    int offset() {
        return ordinal() * Long.BYTES;
    }
}
