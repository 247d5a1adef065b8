package io.jkvm.cli;

import io.jkvm.api.ApiServer;
import io.jkvm.api.RuntimeRegistry;
import io.jkvm.api.VmmController;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A VMM process's control plane ({@code jkvm run} and {@code jkvm api}): its entry in the runtime registry,
 * its API server, and a shutdown hook that, should the process be told to end (SIGTERM, {@code jkvm stop}'s
 * hard stop), stops the VM and removes both. {@link #close} removes them when the VM has ended.
 */
final class ControlPlane implements AutoCloseable {
    /** How long the shutdown hook waits for a stopped VM to close its devices. */
    private static final long STOP_WAIT_SECONDS = 5;

    private final RuntimeRegistry.Registration registration;
    private final ApiServer server;
    private final Thread hook;

    private ControlPlane(RuntimeRegistry.Registration registration, ApiServer server, VmmController vmm) {
        this.registration = registration;
        this.server = server;
        this.hook = new Thread(() -> {
            vmm.stop();
            try {
                vmm.ended().get(STOP_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (Exception e) {
                // ending anyway: the process's exit closes what is left
            }
            release();
        }, "jkvm-control-plane-exit");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /**
     * Registers VM {@code id} and serves {@code vmm}'s API on {@code socket}.
     *
     * @throws IllegalArgumentException the id is in use, the socket exists or the registry cannot be written
     */
    static ControlPlane open(RuntimeRegistry registry, String id, Path socket, VmmController vmm) {
        RuntimeRegistry.Registration registration = registry.register(id, socket);
        try {
            return new ControlPlane(registration, ApiServer.start(socket, vmm), vmm);
        } catch (RuntimeException e) {
            registration.close();
            throw e;
        }
    }

    Path socket() {
        return server.socket();
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            return; // the hook releases everything
        }
        release();
    }

    private void release() {
        server.close();
        registration.close();
    }
}
