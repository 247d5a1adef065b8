package io.jkvm.cli;

import io.jkvm.boot.loader.BootException;
import io.jkvm.kvm.KvmUnavailableException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code jkvm} command. Exit codes: 0 the guest powered off, rebooted or was stopped from the host;
 * 1 the VMM failed; 2 usage or bad input (one line, no stack trace); 3 the guest crashed (triple fault,
 * an exit jkvm cannot handle, a failed entry), with a register dump.
 */
@Command(name = "jkvm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A small KVM hypervisor in Java: boots a Linux kernel with a serial console.",
        subcommands = {RunCommand.class, InitramfsCommand.class, ExecCommand.class})
public final class Main {
    static final int OK = 0, VMM_FAILURE = 1, BAD_INPUT = 2, GUEST_CRASH = 3;

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
                return BAD_INPUT;
            }
            err.println("jkvm: VMM failure: " + e);
            e.printStackTrace(err);
            return VMM_FAILURE;
        });
        cli.setParameterExceptionHandler((e, a) -> {
            err.println("jkvm: " + e.getMessage());
            err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help' for more information.");
            return BAD_INPUT;
        });
        int code = cli.execute(args);
        return args.length == 0 ? BAD_INPUT : code;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"jkvm " + (v == null ? "(development build)" : v)};
        }
    }
}
