package io.jkvm.cli;

import io.jkvm.api.ApiClient;
import io.jkvm.api.ApiFault;
import io.jkvm.api.ApiTypes;
import io.jkvm.api.RuntimeRegistry;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jkvm stop ID}: asks the guest to reboot itself (SendCtrlAltDel, on which jkvm ends with the VM),
 * and if the VMM has not ended after the timeout, or the guest cannot get the keys (not started, no
 * keyboard driver), ends the process: SIGTERM, whose hook stops the VM and cleans up, then SIGKILL.
 */
@Command(name = "stop", mixinStandardHelpOptions = true,
        description = {"Stops a VM: Ctrl-Alt-Del to the guest (it reboots, and jkvm ends), then after --timeout a hard stop."})
final class StopCommand implements Callable<Integer> {
    /** How long SIGTERM gets before SIGKILL. */
    private static final long TERM_SECONDS = 10;

    @Spec CommandSpec spec;
    @Mixin VmId vm;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "how long the guest gets to reboot (default: ${DEFAULT-VALUE})")
    long timeoutSeconds = 10;

    @Override
    public Integer call() throws Exception {
        if (timeoutSeconds < 0) throw new IllegalArgumentException("--timeout must not be negative: " + timeoutSeconds);
        RuntimeRegistry.Entry entry = vm.find();
        PrintWriter out = spec.commandLine().getOut();
        Optional<ProcessHandle> process = ProcessHandle.of(entry.pid());
        if (process.isEmpty()) {
            out.println(entry.id() + " stopped (it had ended)");
            return ExitCode.OK;
        }
        ProcessHandle vmm = process.get();
        String how = askGuest(entry) && ended(vmm, timeoutSeconds) ? "the guest rebooted on Ctrl-Alt-Del" : hardStop(vmm);
        out.println(entry.id() + " stopped (" + how + ")");
        return ExitCode.OK;
    }

    /** SendCtrlAltDel; false if the VM refused it (not started, keyboard disabled). */
    private boolean askGuest(RuntimeRegistry.Entry entry) {
        try (ApiClient api = new ApiClient(Path.of(entry.apiSocket()))) {
            api.call("PUT", "/actions", new ApiTypes.InstanceActionInfo("SendCtrlAltDel"));
            return true;
        } catch (ApiFault refused) {
            spec.commandLine().getErr().println("jkvm: " + entry.id() + ": " + refused.getMessage() + " Stopping it.");
            return false;
        }
    }

    private static String hardStop(ProcessHandle vmm) throws InterruptedException {
        vmm.destroy();
        if (ended(vmm, TERM_SECONDS)) return "hard stop: SIGTERM";
        vmm.destroyForcibly();
        ended(vmm, TERM_SECONDS);
        return "hard stop: SIGKILL";
    }

    private static boolean ended(ProcessHandle process, long seconds) throws InterruptedException {
        try {
            process.onExit().get(seconds, TimeUnit.SECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }
}
