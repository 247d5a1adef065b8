package io.jkvm.cli;

import io.jkvm.kvm.RunOutcome;
import java.io.PrintWriter;

/**
 * jkvm's exit codes: 0 the guest powered off, rebooted or was stopped from the host; 1 the VMM failed;
 * 2 usage or bad input (one line, no stack trace); 3 the guest crashed (triple fault, an exit jkvm cannot
 * handle, a failed entry), with a register dump.
 */
public final class ExitCode {
    public static final int OK = 0, VMM_FAILURE = 1, BAD_INPUT = 2, GUEST_CRASH = 3;

    private ExitCode() {}

    /** The exit code for how a run ended; a crash is described on {@code err}. */
    public static int of(RunOutcome outcome, PrintWriter err) {
        if (outcome instanceof RunOutcome.Poweroff || outcome instanceof RunOutcome.Reset
                || outcome instanceof RunOutcome.Stopped) return OK;
        if (outcome instanceof RunOutcome.Shutdown) return crash(err, "the guest triple-faulted (KVM_EXIT_SHUTDOWN)");
        if (outcome instanceof RunOutcome.Crash) return crash(err, "the guest reported a crash");
        if (outcome instanceof RunOutcome.Halted) return crash(err, "the guest halted with nothing to wake it");
        if (outcome instanceof RunOutcome.Failed f) return crash(err, f.toString());
        throw new AssertionError("unknown outcome " + outcome);
    }

    private static int crash(PrintWriter err, String what) {
        err.println("jkvm: guest crashed: " + what);
        return GUEST_CRASH;
    }
}
