package io.jkvm.cli;

import io.jkvm.api.ApiClient;
import io.jkvm.api.ApiTypes;
import io.jkvm.api.RuntimeRegistry;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code jkvm pause ID} and {@code jkvm resume ID}: PATCH /vm with the state Firecracker names (Paused,
 * Resumed) on the VM's API socket. One class for both: {@link Main} adds it under each name.
 */
@Command(mixinStandardHelpOptions = true)
final class StateCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin VmId vm;
    private final String state;
    private final String done;

    /** @param state Paused or Resumed; @param done what to print after, e.g. "paused" */
    StateCommand(String state, String done) {
        this.state = state;
        this.done = done;
    }

    @Override
    public Integer call() {
        RuntimeRegistry.Entry entry = vm.find();
        try (ApiClient api = new ApiClient(Path.of(entry.apiSocket()))) {
            api.call("PATCH", "/vm", new ApiTypes.Vm(state));
        }
        spec.commandLine().getOut().println(entry.id() + " " + done);
        return ExitCode.OK;
    }
}
