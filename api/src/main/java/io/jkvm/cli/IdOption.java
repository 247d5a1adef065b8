package io.jkvm.cli;

import io.jkvm.api.RuntimeRegistry;
import picocli.CommandLine.Option;

/** The {@code --id} option of the commands that start a VMM ({@code run}, {@code api}). */
final class IdOption {
    @Option(names = "--id", paramLabel = "ID", description = "the VM's id for jkvm list|pause|resume|stop|info:"
            + " 1-64 letters, digits or '-' (default: a generated one, printed at start)")
    String id;

    /** The id given, checked, or a generated one. */
    String resolve() {
        return id == null ? RuntimeRegistry.newId() : RuntimeRegistry.checkId(id);
    }
}
