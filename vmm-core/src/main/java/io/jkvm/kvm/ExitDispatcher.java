package io.jkvm.kvm;

import static io.jkvm.kvm.sys.KvmStructs.Run.*;

import io.jkvm.bus.Bus;

/**
 * Handles one vCPU exit, decoded in place from kvm_run (api.rst §5): port I/O to the PIO bus (both
 * directions, string I/O with count > 1, sizes 1/2/4), MMIO to the MMIO bus, the final exits to a
 * {@link RunOutcome}. Allocates nothing on the continuing paths. Independent of KVM, so it runs in
 * tests on a hand-filled buffer.
 */
final class ExitDispatcher {
    private static final VcpuEvents.ExceptionEvent BREAKPOINT =
            VcpuEvents.ExceptionEvent.inject(EmulationQuirk.BREAKPOINT_VECTOR);

    private final Bus pio;
    private final Bus mmio;
    private final VcpuControl vcpu;
    private final boolean emulationQuirks;
    private final ExitStats stats;
    private final ExitTrace trace; // null: not traced
    private RunOutcome outcome;

    ExitDispatcher(Bus pio, Bus mmio, VcpuControl vcpu, boolean emulationQuirks, ExitStats stats) {
        this(pio, mmio, vcpu, emulationQuirks, stats, null);
    }

    /** @param trace where each handled exit is described, or null */
    ExitDispatcher(Bus pio, Bus mmio, VcpuControl vcpu, boolean emulationQuirks, ExitStats stats, ExitTrace trace) {
        this.pio = pio;
        this.mmio = mmio;
        this.vcpu = vcpu;
        this.emulationQuirks = emulationQuirks;
        this.stats = stats;
        this.trace = trace;
    }

    /** Handles the exit in {@code run}; true to enter the guest again, false when {@link #outcome()} is final. */
    boolean dispatch(KvmRun run) {
        ExitReason reason = run.exitReason();
        boolean more = handle(run, reason);
        if (trace != null) trace.exit(run, reason, more, outcome, pio, mmio);
        return more;
    }

    private boolean handle(KvmRun run, ExitReason reason) {
        return switch (reason) {
            case IO -> io(run);
            case MMIO -> mmio(run);
            case INTR, IRQ_WINDOW_OPEN -> true;
            case HLT -> end(RunOutcome.HALTED);
            case SHUTDOWN -> end(RunOutcome.SHUTDOWN);
            case SYSTEM_EVENT -> systemEvent(run);
            case FAIL_ENTRY -> fail(String.format("KVM_EXIT_FAIL_ENTRY: hardware entry failure reason %#x on cpu %d",
                    run.failEntryHardwareReason(), run.failEntryCpu()));
            case INTERNAL_ERROR -> internalError(run);
            case UNKNOWN, EXCEPTION, HYPERCALL, DEBUG, SET_TPR, TPR_ACCESS, NMI, WATCHDOG, IOAPIC_EOI, HYPERV,
                 X86_RDMSR, X86_WRMSR, DIRTY_RING_FULL, AP_RESET_HOLD, X86_BUS_LOCK, XEN, NOTIFY, UNRECOGNIZED ->
                    fail("unexpected KVM exit " + reason + " (exit_reason " + run.exitReasonCode() + ")");
        };
    }

    /** The final outcome after {@link #dispatch} returned false. */
    RunOutcome outcome() {
        return outcome;
    }

    private boolean io(KvmRun run) {
        int size = run.ioSize();
        if ((size != 1 && size != 2 && size != 4) || !run.ioDataInBounds())
            return fail(String.format("KVM_EXIT_IO with size %d, count %d, data_offset %#x", size,
                    run.ioCount(), run.ioDataOffset()));
        int port = run.ioPort();
        int count = run.ioCount();
        stats.recordPort(port);
        if (run.ioIsOut()) {
            for (int i = 0; i < count; i++) pio.write(port, size, run.ioData(i));
        } else {
            for (int i = 0; i < count; i++) run.ioData(i, pio.read(port, size));
        }
        return true;
    }

    private boolean mmio(KvmRun run) {
        int len = run.mmioLen();
        if (len < 1 || len > Long.BYTES) return fail("KVM_EXIT_MMIO with length " + len);
        long address = run.mmioPhysAddr();
        stats.recordMmio(address);
        if (run.mmioIsWrite()) mmio.write(address, len, run.mmioData());
        else run.mmioData(mmio.read(address, len));
        return true;
    }

    private boolean systemEvent(KvmRun run) {
        int type = run.systemEventType();
        return switch (type) {
            case KVM_SYSTEM_EVENT_SHUTDOWN -> end(RunOutcome.POWEROFF);
            case KVM_SYSTEM_EVENT_RESET -> end(RunOutcome.RESET);
            case KVM_SYSTEM_EVENT_CRASH -> end(RunOutcome.CRASH);
            default -> fail("KVM_EXIT_SYSTEM_EVENT of unhandled type " + type);
        };
    }

    private boolean internalError(KvmRun run) {
        int suberror = run.internalSuberror();
        if (suberror != KVM_INTERNAL_ERROR_EMULATION) {
            StringBuilder data = new StringBuilder();
            for (int i = 0; i < run.internalNdata(); i++) data.append(String.format(" %#x", run.internalData(i)));
            return fail("KVM_EXIT_INTERNAL_ERROR: suberror " + suberror + ", data [" + data.toString().strip() + "]");
        }
        int insnSize = run.emulationFailureInsnSize();
        EmulationQuirk action = emulationQuirks
                ? EmulationQuirk.forInstruction(insnSize, run.emulationFailureInsnByte(0))
                : EmulationQuirk.UNHANDLED;
        return switch (action) {
            case INJECT_BREAKPOINT -> {
                vcpu.skipInstruction(1);
                vcpu.injectException(BREAKPOINT);
                yield true;
            }
            case SKIP_FWAIT -> {
                vcpu.skipInstruction(1);
                yield true;
            }
            case UNHANDLED -> fail("KVM_EXIT_INTERNAL_ERROR: emulation failure"
                    + (insnSize == 0 ? " (no instruction bytes)" : " at instruction bytes " + insnBytes(run, insnSize)));
        };
    }

    private static String insnBytes(KvmRun run, int size) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < size; i++) sb.append(i == 0 ? "" : " ").append(String.format("%02x", run.emulationFailureInsnByte(i)));
        return sb.toString();
    }

    private boolean end(RunOutcome o) {
        outcome = o;
        return false;
    }

    private boolean fail(String description) {
        return end(new RunOutcome.Failed(description, vcpu.registerDump()));
    }
}
