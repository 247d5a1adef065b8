package io.jkvm.cli;

import io.jkvm.api.RuntimeRegistry;
import io.jkvm.api.VmmController;
import io.jkvm.kvm.RunOutcome;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jkvm api}: a VMM with no VM yet, configured and started through Firecracker's API (as {@code firecracker --api-sock}). */
@Command(name = "api", mixinStandardHelpOptions = true,
        description = {"Serves Firecracker's REST API on a Unix socket; the VM is configured and started through it",
                "(PUT /boot-source, /machine-config, /drives/ID, then PUT /actions InstanceStart). The guest's serial",
                "console goes to stdout. Ends when the VM ends, with run's exit codes."})
final class ApiCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--api-sock", required = true, paramLabel = "PATH", description = "the Unix socket to serve the API on (must not exist)")
    Path apiSock;

    @Mixin IdOption id;

    @Override
    public Integer call() throws Exception {
        String vmId = id.resolve();
        OutputStream stdout = new FileOutputStream(FileDescriptor.out);
        VmmController vmm = new VmmController(vmId, b -> {
            try {
                stdout.write(b);
            } catch (IOException e) {
                // stdout closed: the guest runs on
            }
        });
        PrintWriter err = spec.commandLine().getErr();
        try (ControlPlane plane = ControlPlane.open(RuntimeRegistry.fromEnvironment(), vmId, apiSock, vmm)) {
            err.println("jkvm: VM " + vmId + ", API on " + plane.socket());
            RunOutcome outcome = vmm.awaitEnd();
            return ExitCode.of(outcome, err);
        }
    }
}
