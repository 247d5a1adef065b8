package io.jkvm.kvm;

import io.jkvm.bus.Bus;
import java.util.function.Consumer;

/**
 * {@code --trace-exits}: one line per VM exit of one vCPU saying in words what happened, for people
 * learning how KVM works:
 * <pre>
 * vcpu0 IO out 0x3f8 ← 0x41 'A' → uart THR
 * vcpu0 IO in 0x3fd → 0x60 '`' ← uart LSR
 * vcpu1 MMIO write 0xd0000050 ← 0 → virtio-blk@0xd0000000 QueueNotify q0
 * vcpu0 MMIO read 0xd0000070 → 0xf ← virtio-blk@0xd0000000 Status
 * vcpu0 INTERNAL_ERROR emulation int3 → #BP injected
 * vcpu0 SYSTEM_EVENT reset → the run ends: Reset
 * </pre>
 * A port device is named alone, an MMIO device with its base (there are several virtio devices); the
 * register is the device's own name for it ({@link io.jkvm.bus.BusDevice#register}), MMIO sizes other than
 * 4 bytes are given. It reads the exit from kvm_run after the dispatch (so an IN shows the value the device gave) and
 * allocates for every line: tracing is for understanding, not for speed. Without a trace the exit path
 * pays one null check.
 */
public final class ExitTrace {
    private final Consumer<String> out;
    private final String vcpu;

    /** Lines of vCPU {@code vcpuId} go to {@code out}, each without a line terminator. */
    public ExitTrace(Consumer<String> out, int vcpuId) {
        this.out = out;
        this.vcpu = "vcpu" + vcpuId;
    }

    /** The exit in {@code run} was handled: {@code more} if the guest is entered again, else the run ends with {@code outcome}. */
    void exit(KvmRun run, ExitReason reason, boolean more, RunOutcome outcome, Bus pio, Bus mmio) {
        String what = switch (reason) {
            case IO -> io(run, pio);
            case MMIO -> mmio(run, mmio);
            case INTERNAL_ERROR -> "INTERNAL_ERROR" + (more ? " " + emulationQuirk(run) : "");
            case SYSTEM_EVENT -> "SYSTEM_EVENT " + systemEvent(run.systemEventType());
            default -> reason.name();
        };
        out.accept(vcpu + " " + what + (more ? "" : " → the run ends: " + outcome.getClass().getSimpleName()));
    }

    private static String io(KvmRun run, Bus pio) {
        int port = run.ioPort();
        StringBuilder values = new StringBuilder();
        for (int i = 0; i < run.ioCount(); i++) values.append(i == 0 ? "" : " ").append(value(run.ioData(i), run.ioSize()));
        String count = run.ioCount() > 1 ? " (" + run.ioCount() + " × " + run.ioSize() + " bytes)" : "";
        boolean out = run.ioIsOut();
        Bus.Range r = pio.find(port);
        String device = r == null ? "no device"
                : r.device().name() + " " + r.device().register(port - r.base(), out, run.ioData(run.ioCount() - 1));
        return out
                ? String.format("IO out %#x ← %s%s → %s", port, values, count, device)
                : String.format("IO in %#x → %s%s ← %s", port, values, count, device);
    }

    private static String mmio(KvmRun run, Bus mmio) {
        long address = run.mmioPhysAddr();
        boolean write = run.mmioIsWrite();
        int len = run.mmioLen();
        String value = value(run.mmioData(), len) + (len == 4 ? "" : len == 1 ? " (1 byte)" : " (" + len + " bytes)");
        Bus.Range r = mmio.find(address);
        String device = r == null ? "no device"
                : r.nameAtBase() + " " + r.device().register(address - r.base(), write, run.mmioData());
        return write
                ? String.format("MMIO write %#x ← %s → %s", address, value, device)
                : String.format("MMIO read %#x → %s ← %s", address, value, device);
    }

    /** A value in hex (0 as 0); a printable byte also as its character. */
    private static String value(long v, int size) {
        String hex = v == 0 ? "0" : String.format("%#x", v);
        return size == 1 && v >= 0x20 && v < 0x7f ? hex + " '" + (char) v + "'" : hex;
    }

    private static String emulationQuirk(KvmRun run) {
        int size = run.emulationFailureInsnSize();
        return switch (EmulationQuirk.forInstruction(size, size == 0 ? 0 : run.emulationFailureInsnByte(0))) {
            case INJECT_BREAKPOINT -> "emulation int3 → #BP injected";
            case SKIP_FWAIT -> "emulation fwait → skipped";
            case UNHANDLED -> "emulation failure";
        };
    }

    private static String systemEvent(int type) {
        return switch (type) {
            case io.jkvm.kvm.sys.KvmStructs.Run.KVM_SYSTEM_EVENT_SHUTDOWN -> "shutdown";
            case io.jkvm.kvm.sys.KvmStructs.Run.KVM_SYSTEM_EVENT_RESET -> "reset";
            case io.jkvm.kvm.sys.KvmStructs.Run.KVM_SYSTEM_EVENT_CRASH -> "crash";
            default -> "type " + type;
        };
    }
}
