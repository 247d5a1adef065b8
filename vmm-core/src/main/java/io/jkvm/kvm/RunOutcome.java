package io.jkvm.kvm;

/** How a vCPU's run ended; the CLI maps it to an exit status. */
public sealed interface RunOutcome {
    /** The guest powered off (KVM_SYSTEM_EVENT_SHUTDOWN, e.g. ACPI S5). */
    record Poweroff() implements RunOutcome {}

    /** The guest asked for a reset (KVM_SYSTEM_EVENT_RESET, e.g. PSCI/ACPI reset). */
    record Reset() implements RunOutcome {}

    /** KVM_EXIT_SHUTDOWN: a triple fault; Linux's last-resort reboot path ends here too. */
    record Shutdown() implements RunOutcome {}

    /** The guest reported a crash (KVM_SYSTEM_EVENT_CRASH, e.g. pvpanic). */
    record Crash() implements RunOutcome {}

    /** KVM_EXIT_HLT: the vCPU halted and, without an in-kernel irqchip, nothing can wake it. */
    record Halted() implements RunOutcome {}

    /** {@link VcpuRunner#stop()} ended the run. */
    record Stopped() implements RunOutcome {}

    /** The VMM could not go on: a failure exit or an error in the exit handling; with a register dump. */
    record Failed(String description, String registerDump) implements RunOutcome {
        @Override
        public String toString() {
            return description + "\n" + registerDump;
        }
    }

    RunOutcome POWEROFF = new Poweroff();
    RunOutcome RESET = new Reset();
    RunOutcome SHUTDOWN = new Shutdown();
    RunOutcome CRASH = new Crash();
    RunOutcome HALTED = new Halted();
    RunOutcome STOPPED = new Stopped();
}
