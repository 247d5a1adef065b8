package io.jkvm.api;

import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * HTTP/1.1 on a Unix domain socket (Jetty's {@link UnixDomainServerConnector}) in front of one
 * {@link VmmController}, as {@code firecracker --api-sock PATH} serves its API. The socket file is created
 * by {@link #start} (refused if something is there already) and removed by {@link #close}.
 */
public final class ApiServer implements AutoCloseable {
    /**
     * Jetty logs through SLF4J to java.util.logging; its start-up lines at INFO would mix with the guest's
     * console, so only its warnings show. A strong reference: java.util.logging keeps loggers weakly.
     */
    private static final java.util.logging.Logger JETTY_LOG = quietJetty();

    /** Jetty's default is 30 s; building a VM under emulation (nested KVM) has taken longer. */
    private static final long IDLE_TIMEOUT_MILLIS = 600_000;

    /** Enough for a control plane; each thread is a request in progress. */
    private static final int MAX_THREADS = 8;

    private final Server server;
    private final Path socket;

    private ApiServer(Server server, Path socket) {
        this.server = server;
        this.socket = socket;
    }

    /**
     * Serves {@code vmm}'s API on {@code socket}.
     *
     * @throws IllegalArgumentException the socket path exists already or cannot be bound (message names it)
     */
    public static ApiServer start(Path socket, VmmController vmm) {
        if (Files.exists(socket, java.nio.file.LinkOption.NOFOLLOW_LINKS))
            throw new IllegalArgumentException("--api-sock " + socket + " exists already (another VMM's socket, or a stale one: remove it)");
        QueuedThreadPool threads = new QueuedThreadPool(MAX_THREADS, 2);
        threads.setName("api");
        threads.setDaemon(true);
        Server server = new Server(threads);
        UnixDomainServerConnector connector = new UnixDomainServerConnector(server);
        connector.setUnixDomainPath(socket);
        connector.setIdleTimeout(IDLE_TIMEOUT_MILLIS); // also bounds a request in progress: InstanceStart may be slow
        server.addConnector(connector);
        server.setHandler(new ApiHandler(vmm));
        try {
            server.start();
        } catch (Exception e) {
            stopQuietly(server);
            throw new IllegalArgumentException("--api-sock " + socket + ": cannot serve there (" + e.getMessage() + ")", e);
        }
        return new ApiServer(server, socket);
    }

    private static java.util.logging.Logger quietJetty() {
        java.util.logging.Logger jetty = java.util.logging.Logger.getLogger("org.eclipse.jetty");
        jetty.setLevel(java.util.logging.Level.WARNING);
        return jetty;
    }

    public Path socket() {
        return socket;
    }

    /** Stops serving and removes the socket file. */
    @Override
    public void close() {
        stopQuietly(server);
        try {
            Files.deleteIfExists(socket);
        } catch (java.io.IOException e) {
            System.getLogger(ApiServer.class.getName()).log(System.Logger.Level.WARNING, "cannot remove " + socket, e);
        }
    }

    private static void stopQuietly(Server server) {
        try {
            server.stop();
        } catch (Exception e) {
            System.getLogger(ApiServer.class.getName()).log(System.Logger.Level.WARNING, "API server did not stop cleanly", e);
        }
    }
}
