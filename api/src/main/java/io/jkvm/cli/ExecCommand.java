package io.jkvm.cli;

import io.jkvm.boot.agent.GuestAgent;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jkvm exec}: runs a command in a running guest through its agent, over the VM's vsock socket. */
@Command(name = "exec", mixinStandardHelpOptions = true,
        description = {"Runs a command in a running jkvm guest through its agent (guests/agent) and prints its output.",
                "  jkvm exec --vsock PATH [-i] [--env NAME=VALUE]... -- CMD [ARGS...]",
                "Exit code: the command's (128+N if signal N killed it); 2 for bad input; 1 if no agent answered."})
final class ExecCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--vsock", required = true, paramLabel = "PATH", description = "the uds= socket of the VM's --vsock device")
    Path uds;

    @Option(names = {"-i", "--interactive"}, description = "feed this process's stdin to the command (default: empty stdin)")
    boolean interactive;

    @Option(names = "--env", paramLabel = "NAME=VALUE",
            description = "the command's environment, repeatable (default: the agent's, PATH=/bin)")
    Map<String, String> env = new LinkedHashMap<>();

    @Option(names = "--wait", paramLabel = "SECONDS", description = "how long to wait for the agent (default: ${DEFAULT-VALUE})")
    int waitSeconds = 30;

    @Parameters(paramLabel = "CMD", arity = "1..*", description = "the command and its arguments")
    List<String> command;

    @Override
    public Integer call() throws Exception {
        if (!Files.exists(uds)) throw new IllegalArgumentException(uds + ": no such vsock socket (is the VM running with --vsock?)");
        if (waitSeconds < 0) throw new IllegalArgumentException("--wait must not be negative");
        InputStream stdin = interactive ? System.in : new ByteArrayInputStream(new byte[0]);
        try {
            return new GuestAgent(uds, Duration.ofSeconds(waitSeconds)).exec(command, env, stdin, System.out, System.err);
        } catch (IOException e) {
            spec.commandLine().getErr().println("jkvm: " + e.getMessage());
            return ExitCode.VMM_FAILURE;
        }
    }
}
