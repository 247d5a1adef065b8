package io.jkvm.cli;

import io.jkvm.api.ApiClient;
import io.jkvm.api.ApiTypes;
import io.jkvm.api.RuntimeRegistry;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code jkvm list}: the running VMs, as {@code virsh list} shows them, each asked through its API socket. */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = {"Lists the running jkvm VMs (runtime directory: $XDG_RUNTIME_DIR/jkvm or /run/jkvm);",
                "entries of VMMs that are gone are removed."})
final class ListCommand implements Callable<Integer> {
    private static final String ROW = "%-16s %-12s %5s %8s %10s %8s  %s%n";

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.printf(ROW, "ID", "STATE", "VCPUS", "MEMORY", "UPTIME", "PID", "API SOCKET");
        for (RuntimeRegistry.Entry e : RuntimeRegistry.fromEnvironment().list()) {
            List<String> live = ask(e);
            out.printf(ROW, e.id(), live.get(0), live.get(1), live.get(2),
                    uptime(Duration.ofMillis(System.currentTimeMillis() - e.startedMillis())), e.pid(), e.apiSocket());
        }
        return ExitCode.OK;
    }

    /** State, vCPUs and memory from the VM's API; "-" and "unreachable" when it does not answer. */
    private static List<String> ask(RuntimeRegistry.Entry e) {
        try (ApiClient api = new ApiClient(Path.of(e.apiSocket()))) {
            ApiTypes.InstanceInfo info = api.get("/", ApiTypes.InstanceInfo.class);
            ApiTypes.MachineConfiguration config = api.get("/machine-config", ApiTypes.MachineConfiguration.class);
            return List.of(info.state(), Integer.toString(config.vcpuCount()), config.memSizeMib() + "M");
        } catch (RuntimeException unreachable) {
            return List.of("unreachable", "-", "-");
        }
    }

    /** 3d04h, 2h05m, 7m09s, 12s. */
    static String uptime(Duration d) {
        if (d.toDays() > 0) return String.format("%dd%02dh", d.toDays(), d.toHoursPart());
        if (d.toHours() > 0) return String.format("%dh%02dm", d.toHours(), d.toMinutesPart());
        if (d.toMinutes() > 0) return String.format("%dm%02ds", d.toMinutes(), d.toSecondsPart());
        return d.toSeconds() + "s";
    }
}
