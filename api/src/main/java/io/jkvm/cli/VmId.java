package io.jkvm.cli;

import io.jkvm.api.RuntimeRegistry;
import picocli.CommandLine.Parameters;

/** The ID argument of the commands that act on one running VM, found in the runtime registry. */
final class VmId {
    @Parameters(index = "0", paramLabel = "ID", description = "the VM's id (jkvm list shows them)")
    String id;

    /** @throws IllegalArgumentException no running VM has this id */
    RuntimeRegistry.Entry find() {
        return RuntimeRegistry.fromEnvironment().find(id);
    }
}
