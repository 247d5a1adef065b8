package io.jkvm.cli;

import io.jkvm.boot.loader.BootException;
import io.jkvm.kvm.KvmUnavailableException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code jkvm} command; its exit codes are {@link ExitCode}'s. */
@Command(name = "jkvm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A small KVM hypervisor in Java: boots a Linux kernel with a serial console.",
        subcommands = {RunCommand.class, InitramfsCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.err, true)));
    }

    /** Runs the command line; everything the user should read about a failure goes to {@code err}. */
    static int execute(String[] args, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof KvmUnavailableException || e instanceof BootException || e instanceof IllegalArgumentException) {
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

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"jkvm " + (v == null ? "(development build)" : v)};
        }
    }
}
