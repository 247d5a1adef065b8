package io.jkvm.kvm;

import static io.jkvm.kvm.sys.KvmStructs.VcpuEvents.*;

import java.nio.ByteBuffer;

/**
 * Pending and injected events of a vCPU (struct kvm_vcpu_events, api.rst KVM_GET_VCPU_EVENTS): an
 * exception, an external/soft interrupt, NMI and SMI state. {@code flags} holds KVM_VCPUEVENT_VALID_*
 * bits that say which optional fields KVM_SET_VCPU_EVENTS should apply.
 */
public record VcpuEvents(ExceptionEvent exception, InterruptEvent interrupt, NmiState nmi, int sipiVector,
                         int flags, SmiState smi, boolean tripleFaultPending, boolean exceptionHasPayload,
                         long exceptionPayload) {

    /** An exception being delivered ({@code injected}) or raised but not yet delivered ({@code pending}). */
    public record ExceptionEvent(boolean injected, int vector, boolean hasErrorCode, boolean pending,
                                 int errorCode) {
        /** An exception to deliver on the next entry, without error code (e.g. #BP, vector 3). */
        public static ExceptionEvent inject(int vector) {
            return new ExceptionEvent(true, vector, false, false, 0);
        }
    }

    /** {@code shadow} is the interrupt shadow (KVM_X86_SHADOW_INT_MOV_SS / _STI bits). */
    public record InterruptEvent(boolean injected, int vector, boolean soft, int shadow) {}

    public record NmiState(boolean injected, boolean pending, boolean masked) {}

    public record SmiState(boolean smm, boolean pending, boolean insideNmi, boolean latchedInit) {}

    public VcpuEvents withException(ExceptionEvent e) {
        return new VcpuEvents(e, interrupt, nmi, sipiVector, flags, smi, tripleFaultPending, exceptionHasPayload,
                exceptionPayload);
    }

    static VcpuEvents read(ByteBuffer b) {
        return new VcpuEvents(
                new ExceptionEvent(flag(b, EXCEPTION_INJECTED), u8(b, EXCEPTION_NR), flag(b, EXCEPTION_HAS_ERROR_CODE),
                        flag(b, EXCEPTION_PENDING), b.getInt(EXCEPTION_ERROR_CODE)),
                new InterruptEvent(flag(b, INTERRUPT_INJECTED), u8(b, INTERRUPT_NR), flag(b, INTERRUPT_SOFT),
                        u8(b, INTERRUPT_SHADOW)),
                new NmiState(flag(b, NMI_INJECTED), flag(b, NMI_PENDING), flag(b, NMI_MASKED)),
                b.getInt(SIPI_VECTOR), b.getInt(FLAGS),
                new SmiState(flag(b, SMI_SMM), flag(b, SMI_PENDING), flag(b, SMI_INSIDE_NMI), flag(b, SMI_LATCHED_INIT)),
                flag(b, TRIPLE_FAULT_PENDING), flag(b, EXCEPTION_HAS_PAYLOAD), b.getLong(EXCEPTION_PAYLOAD));
    }

    void write(ByteBuffer b) {
        writeException(b, exception);
        b.put(INTERRUPT_INJECTED, Segment.bit(interrupt.injected)).put(INTERRUPT_NR, (byte) interrupt.vector)
                .put(INTERRUPT_SOFT, Segment.bit(interrupt.soft)).put(INTERRUPT_SHADOW, (byte) interrupt.shadow);
        b.put(NMI_INJECTED, Segment.bit(nmi.injected)).put(NMI_PENDING, Segment.bit(nmi.pending))
                .put(NMI_MASKED, Segment.bit(nmi.masked));
        b.putInt(SIPI_VECTOR, sipiVector).putInt(FLAGS, flags);
        b.put(SMI_SMM, Segment.bit(smi.smm)).put(SMI_PENDING, Segment.bit(smi.pending))
                .put(SMI_INSIDE_NMI, Segment.bit(smi.insideNmi)).put(SMI_LATCHED_INIT, Segment.bit(smi.latchedInit));
        b.put(TRIPLE_FAULT_PENDING, Segment.bit(tripleFaultPending));
        b.put(EXCEPTION_HAS_PAYLOAD, Segment.bit(exceptionHasPayload)).putLong(EXCEPTION_PAYLOAD, exceptionPayload);
    }

    /** Writes only the exception part of a kvm_vcpu_events at {@code b}; the vCPU exit path uses this. */
    static void writeException(ByteBuffer b, ExceptionEvent e) {
        b.put(EXCEPTION_INJECTED, Segment.bit(e.injected)).put(EXCEPTION_NR, (byte) e.vector)
                .put(EXCEPTION_HAS_ERROR_CODE, Segment.bit(e.hasErrorCode)).put(EXCEPTION_PENDING, Segment.bit(e.pending))
                .putInt(EXCEPTION_ERROR_CODE, e.errorCode);
    }

    private static boolean flag(ByteBuffer b, int at) {
        return b.get(at) != 0;
    }

    private static int u8(ByteBuffer b, int at) {
        return Byte.toUnsignedInt(b.get(at));
    }
}
