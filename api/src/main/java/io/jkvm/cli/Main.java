package io.jkvm.cli;

import io.jkvm.api.ApiFault;
import io.jkvm.boot.loader.BootException;
import io.jkvm.kvm.KvmUnavailableException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code jkvm} command; its exit codes are {@link ExitCode}'s. */
@Command(name = "jkvm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A small KVM hypervisor in Java: boots a Linux kernel with a serial console.",
        subcommands = {RunCommand.class, ApiCommand.class, ListCommand.class, StopCommand.class, InfoCommand.class,
                InitramfsCommand.class, ExecCommand.class, SnapshotCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line; output goes to {@code out}, everything about a failure to {@code err}. */
    static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        addStateCommand(cli, "pause", "Paused", "paused", "Pauses a running VM: its vCPUs and devices stop, using no CPU.");
        addStateCommand(cli, "resume", "Resumed", "resumed", "Resumes a paused VM.");
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof KvmUnavailableException || e instanceof BootException || e instanceof IllegalArgumentException
                    || e instanceof ApiFault) {
                err.println("jkvm: " + e.getMessage());
                return ExitCode.BAD_INPUT;
            }
            err.println("jkvm: VMM failure: " + e);
            e.printStackTrace(err);
            return ExitCode.VMM_FAILURE;
        });
        cli.setParameterExceptionHandler((e, a) -> {
            err.println("jkvm: " + e.getMessage());
            err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help' for more information.");
            return ExitCode.BAD_INPUT;
        });
        int code = cli.execute(args);
        return args.length == 0 ? ExitCode.BAD_INPUT : code;
    }

    private static void addStateCommand(CommandLine cli, String name, String state, String done, String description) {
        CommandLine sub = new CommandLine(new StateCommand(state, done));
        sub.getCommandSpec().usageMessage().description(description);
        cli.addSubcommand(name, sub);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"jkvm " + io.jkvm.boot.Version.jkvm()};
        }
    }
}
