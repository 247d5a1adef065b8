package io.jkvm.boot.cpu;

import io.jkvm.kvm.Fpu;

/**
 * The x87/SSE state after FNINIT and a reset MXCSR, which a kernel entered directly (no firmware ran
 * FNINIT) expects: FCW 0x37f (all exceptions masked, 64-bit precision, round to nearest; SDM Vol. 1
 * §8.1.5) and MXCSR 0x1f80 (all SIMD exceptions masked, round to nearest; SDM Vol. 1 §10.2.3).
 */
public final class BootFpu {
    public static final int FCW_INIT = 0x37f;
    public static final int MXCSR_INIT = 0x1f80;

    private BootFpu() {}

    /** A fresh state to pass to Vcpu.setFpu(); all registers zero, the tag word empty. */
    public static Fpu state() {
        return new Fpu().fcw(FCW_INIT).mxcsr(MXCSR_INIT);
    }
}
