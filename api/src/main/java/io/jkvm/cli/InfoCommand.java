package io.jkvm.cli;

import io.jkvm.api.ApiClient;
import io.jkvm.api.ApiTypes;
import io.jkvm.api.Json;
import io.jkvm.api.RuntimeRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code jkvm info ID}: one JSON object with the registry entry, GET /, GET /machine-config and GET /metrics. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Shows a running VM: its registry entry, state, machine configuration and metrics.")
final class InfoCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin VmId vm;

    @Override
    public Integer call() {
        RuntimeRegistry.Entry entry = vm.find();
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("registry", entry);
        try (ApiClient api = new ApiClient(Path.of(entry.apiSocket()))) {
            info.put("instance", api.get("/", ApiTypes.InstanceInfo.class));
            info.put("machine-config", api.get("/machine-config", ApiTypes.MachineConfiguration.class));
            info.put("metrics", api.get("/metrics", Map.class));
        }
        spec.commandLine().getOut().println(new String(Json.write(info), StandardCharsets.UTF_8));
        return ExitCode.OK;
    }
}
