package io.jkvm.boot.machine;

import io.jkvm.devices.virtio.vsock.VirtioVsock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * One {@code --vsock cid=N,uds=PATH} argument: a virtio-vsock device with guest CID {@code N} (3 or more,
 * virtio 1.2 §5.10.4) whose host side is the Unix socket {@code PATH} (Firecracker's hybrid vsock:
 * {@code CONNECT <port>} on PATH reaches guest port, a guest connection to host port P reaches {@code PATH_P}).
 */
public record VsockSpec(long cid, Path uds) {
    /** sun_path (linux/un.h) is 108 bytes with the terminating NUL. */
    public static final int MAX_UDS_BYTES = 107;

    public VsockSpec {
        if (cid < VirtioVsock.MIN_GUEST_CID || cid > VirtioVsock.MAX_GUEST_CID)
            throw new IllegalArgumentException("--vsock cid must be 3 to " + VirtioVsock.MAX_GUEST_CID + ", not " + cid);
        int bytes = uds.toString().getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0) throw new IllegalArgumentException("--vsock uds must not be empty");
        if (bytes > MAX_UDS_BYTES)
            throw new IllegalArgumentException("--vsock uds is " + bytes + " bytes, more than a Unix socket's " + MAX_UDS_BYTES + ": " + uds);
    }

    public static VsockSpec parse(String text) {
        Long cid = null;
        Path uds = null;
        for (String part : text.split(",", -1)) {
            if (part.startsWith("cid=")) {
                try {
                    cid = Long.parseLong(part.substring(4));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--vsock cid must be a number: '" + part.substring(4) + "'");
                }
            } else if (part.startsWith("uds=") && part.length() > 4) {
                uds = Path.of(part.substring(4));
            } else {
                throw new IllegalArgumentException("--vsock: unknown option '" + part + "' (expected cid=N,uds=PATH)");
            }
        }
        if (cid == null || uds == null) throw new IllegalArgumentException("--vsock needs cid=N and uds=PATH: '" + text + "'");
        return new VsockSpec(cid, uds);
    }
}
