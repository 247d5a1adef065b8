package io.jkvm.devices.virtio.vsock;

/** The packet operations of virtio 1.2 §5.10.6 (enum virtio_vsock_op), by their wire value. */
public enum VsockOp {
    REQUEST(1), RESPONSE(2), RST(3), SHUTDOWN(4), RW(5), CREDIT_UPDATE(6), CREDIT_REQUEST(7);

    private static final VsockOp[] BY_CODE = new VsockOp[8];

    static {
        for (VsockOp op : values()) BY_CODE[op.code] = op;
    }

    private final int code;

    VsockOp(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The operation with wire value {@code code}, or null for 0 (VIRTIO_VSOCK_OP_INVALID) and unknown values. */
    public static VsockOp of(int code) {
        return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
