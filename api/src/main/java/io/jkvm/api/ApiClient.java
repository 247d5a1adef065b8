package io.jkvm.api;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.StringRequestContent;
import org.eclipse.jetty.io.Transport;

/**
 * An HTTP client of one VMM's API socket (Jetty's client over a Unix domain socket): what {@code jkvm
 * list|pause|resume|stop|info} use, and the tests.
 */
public final class ApiClient implements AutoCloseable {
    /** How long the commands wait for an answer: a pause waits for the vCPUs to park, at most 10 s. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    /** A response: its status and its body (empty for a 204). */
    public record Reply(int status, String body) {
        /** The fault message of an error reply, or the body. */
        public String faultMessage() {
            try {
                return Json.read(body, ApiTypes.Error.class).faultMessage();
            } catch (ApiFault notAFault) {
                return body;
            }
        }
    }

    private final HttpClient http = new HttpClient();
    private final Transport transport;
    private final Duration timeout;

    public ApiClient(Path socket) {
        this(socket, DEFAULT_TIMEOUT);
    }

    /** @param timeout how long a request may take, answer included (InstanceStart builds the whole VM) */
    public ApiClient(Path socket, Duration timeout) {
        this.transport = new Transport.TCPUnix(socket);
        this.timeout = timeout;
        http.setName("api-client");
        try {
            http.start();
        } catch (Exception e) {
            throw new IllegalStateException("HTTP client did not start", e);
        }
    }

    /** Sends {@code body} (null: none) as JSON text, exactly as given. */
    public Reply send(String method, String path, String body) {
        Request request = http.newRequest("http://localhost" + path).transport(transport).method(method)
                .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (body != null) request.body(new StringRequestContent("application/json", body));
        try {
            ContentResponse r = request.send();
            return new Reply(r.getStatus(), r.getContentAsString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while talking to " + transport, e);
        } catch (TimeoutException | ExecutionException e) {
            throw new IllegalStateException("no answer from the API socket: " + (e.getCause() == null ? e : e.getCause()).getMessage(), e);
        }
    }

    /** Sends {@code value} as JSON; a reply other than 204 throws with its fault message. */
    public void call(String method, String path, Object value) {
        Reply r = send(method, path, new String(Json.write(value), java.nio.charset.StandardCharsets.UTF_8));
        if (r.status() != 204) throw new ApiFault(r.faultMessage());
    }

    /** GET {@code path} as a {@code type}; a reply other than 200 throws with its fault message. */
    public <T> T get(String path, Class<T> type) {
        Reply r = send("GET", path, null);
        if (r.status() != 200) throw new ApiFault(r.faultMessage());
        return Json.read(r.body(), type);
    }

    @Override
    public void close() {
        try {
            http.stop();
        } catch (Exception e) {
            throw new IllegalStateException("HTTP client did not stop", e);
        }
    }
}
