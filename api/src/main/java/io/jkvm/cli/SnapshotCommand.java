package io.jkvm.cli;

import io.jkvm.api.ApiClient;
import io.jkvm.api.ApiFault;
import io.jkvm.api.ApiTypes;
import io.jkvm.api.RuntimeRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jkvm snapshot ID --state S --memory M}: pauses the VM if it runs (only a paused VM is snapshotted,
 * as on Firecracker), then PUT /snapshot/create with both paths made absolute (the VMM has its own working
 * directory). The VM stays paused, as after Firecracker's create; if this command paused it and the snapshot
 * fails, it resumes it.
 */
@Command(name = "snapshot", mixinStandardHelpOptions = true,
        description = {"Snapshots a VM into two files: its state (CPU, devices, machine) and its guest memory.",
                "A running VM is paused first and stays paused: jkvm resume ID goes on, jkvm run --restore starts a copy."})
final class SnapshotCommand implements Callable<Integer> {
    /** Writing the guest memory takes as long as the disk needs for it: far longer than a pause. */
    private static final Duration TIMEOUT = Duration.ofMinutes(10);

    @Spec CommandSpec spec;
    @Mixin VmId vm;

    @Option(names = "--state", required = true, paramLabel = "FILE", description = "where the VM state goes")
    Path state;

    @Option(names = "--memory", required = true, paramLabel = "FILE", description = "where the guest memory goes")
    Path memory;

    @Override
    public Integer call() {
        RuntimeRegistry.Entry entry = vm.find();
        Path stateFile = state.toAbsolutePath(), memoryFile = memory.toAbsolutePath();
        try (ApiClient api = new ApiClient(Path.of(entry.apiSocket()), TIMEOUT)) {
            boolean pausedHere = "Running".equals(api.get("/", ApiTypes.InstanceInfo.class).state());
            if (pausedHere) api.call("PATCH", "/vm", new ApiTypes.Vm("Paused"));
            try {
                api.call("PUT", "/snapshot/create", new ApiTypes.SnapshotCreateParams(stateFile.toString(), memoryFile.toString(), "Full"));
            } catch (ApiFault e) {
                if (pausedHere) api.call("PATCH", "/vm", new ApiTypes.Vm("Resumed"));
                throw e;
            }
        }
        spec.commandLine().getOut().println(entry.id() + ": state written to " + stateFile + ", memory to " + memoryFile
                + " (the VM is paused: jkvm resume " + entry.id() + ")");
        return ExitCode.OK;
    }
}
