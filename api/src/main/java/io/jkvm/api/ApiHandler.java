package io.jkvm.api;

import io.jkvm.api.ApiTypes.BootSource;
import io.jkvm.api.ApiTypes.Drive;
import io.jkvm.api.ApiTypes.InstanceActionInfo;
import io.jkvm.api.ApiTypes.MachineConfiguration;
import io.jkvm.api.ApiTypes.NetworkInterface;
import io.jkvm.api.ApiTypes.Vm;
import io.jkvm.api.ApiTypes.Vsock;
import io.jkvm.boot.Version;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Firecracker's routes over Jetty: each method and path to one {@link VmmController} call, the body read
 * (at most {@link #MAX_BODY_BYTES}) and turned into the swagger type by {@link Json}. 204 for a success
 * without a body, 200 with JSON for a GET, 400 with {@code {"fault_message"}} for every refusal; anything
 * else that goes wrong is a 500 with a fault message, never a dropped connection.
 */
final class ApiHandler extends Handler.Abstract {
    /** Firecracker's default limit on a request body (--http-api-max-payload-size). */
    static final int MAX_BODY_BYTES = 51_200;
    private static final System.Logger LOG = System.getLogger(ApiHandler.class.getName());

    private final VmmController vmm;

    /** A blocking handler (Jetty's default): bodies are read and the VM paused on the request's thread. */
    ApiHandler(VmmController vmm) {
        this.vmm = vmm;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String method = request.getMethod();
        String path = Request.getPathInContext(request);
        int status;
        Object body = null;
        try {
            body = route(method, path, request);
            status = body == null ? HttpStatus.NO_CONTENT_204 : HttpStatus.OK_200;
        } catch (ApiFault fault) {
            status = HttpStatus.BAD_REQUEST_400;
            body = new ApiTypes.Error(fault.getMessage());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, method + " " + path + " failed", e);
            status = HttpStatus.INTERNAL_SERVER_ERROR_500;
            body = new ApiTypes.Error("Internal error: " + e);
        }
        response.setStatus(status);
        if (body == null) {
            callback.succeeded();
        } else {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.write(true, ByteBuffer.wrap(Json.write(body)), callback);
        }
        return true;
    }

    /** The controller's answer: a body for a GET, null for a 204. */
    private Object route(String method, String path, Request request) {
        String[] parts = path.split("/", -1); // "/drives/x" -> "", "drives", "x"
        String resource = parts.length > 1 ? parts[1] : "";
        String id = parts.length == 3 && !parts[2].isEmpty() ? parts[2] : null;
        String route = method + " /" + resource + (id != null ? "/{id}" : parts.length > 2 ? "/?" : "");
        switch (route) {
            case "GET /" -> { return vmm.describe(); }
            case "GET /version" -> { return new ApiTypes.FirecrackerVersion(Version.jkvm()); }
            case "GET /machine-config" -> { return vmm.machineConfig(); }
            case "GET /metrics" -> { return vmm.metricsNow(); }
            case "PUT /boot-source" -> vmm.putBootSource(body(request, BootSource.class));
            case "PUT /machine-config" -> vmm.putMachineConfig(body(request, MachineConfiguration.class));
            case "PUT /drives/{id}" -> vmm.putDrive(id, body(request, Drive.class));
            case "PUT /network-interfaces/{id}" -> vmm.putNetworkInterface(id, body(request, NetworkInterface.class));
            case "PUT /vsock" -> vmm.putVsock(body(request, Vsock.class));
            case "PUT /logger" -> vmm.putLogger(body(request, ApiTypes.Logger.class));
            case "PUT /metrics" -> vmm.putMetrics(body(request, ApiTypes.Metrics.class));
            case "PUT /actions" -> vmm.action(body(request, InstanceActionInfo.class));
            case "PATCH /vm" -> vmm.patchVm(body(request, Vm.class));
            case "PUT /snapshot/{id}" -> snapshot(id, request);
            default -> throw new ApiFault("Invalid request method and/or path: " + method + " " + path + ".");
        }
        return null;
    }

    /** PUT /snapshot/create and /snapshot/load. */
    private void snapshot(String action, Request request) {
        switch (action) {
            case "create" -> vmm.createSnapshot(body(request, ApiTypes.SnapshotCreateParams.class));
            case "load" -> vmm.loadSnapshot(body(request, ApiTypes.SnapshotLoadParams.class));
            default -> throw new ApiFault("Invalid request method and/or path: PUT /snapshot/" + action + ".");
        }
    }

    private static <T> T body(Request request, Class<T> type) {
        long declared = request.getLength();
        if (declared > MAX_BODY_BYTES) throw tooLarge(declared);
        try (InputStream in = Content.Source.asInputStream(request)) {
            byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
            if (bytes.length > MAX_BODY_BYTES) throw tooLarge(bytes.length);
            return Json.read(bytes, type);
        } catch (IOException e) {
            throw new ApiFault("The request body could not be read: " + e.getMessage());
        }
    }

    private static ApiFault tooLarge(long size) {
        return new ApiFault("Request payload with size " + (size > MAX_BODY_BYTES ? size + " " : "") + "is larger than the limit of "
                + MAX_BODY_BYTES + " allowed by server.");
    }
}
