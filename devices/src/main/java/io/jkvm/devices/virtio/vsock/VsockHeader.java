package io.jkvm.devices.virtio.vsock;

/**
 * The packet header of virtio 1.2 §5.10.6, 44 bytes, little-endian, in front of every packet on the rx and tx
 * queues:
 * <pre>
 * le64 src_cid, le64 dst_cid, le32 src_port, le32 dst_port, le32 len, le16 type, le16 op, le32 flags,
 * le32 buf_alloc, le32 fwd_cnt
 * </pre>
 * A mutable view over a reusable byte array, so that a queue's packets allocate nothing. Ports, lengths
 * and counters are unsigned 32-bit values held in {@code long}s.
 */
public final class VsockHeader {
    public static final int SIZE = 44;
    /** §5.10.6: VIRTIO_VSOCK_TYPE_STREAM, the only socket type this device supports. */
    public static final int TYPE_STREAM = 1;
    /** §5.10.6.2.1 SHUTDOWN flags: the sender will receive no more data / send no more data. */
    public static final int SHUTDOWN_RCV = 0b01, SHUTDOWN_SEND = 0b10;

    private static final int SRC_CID = 0, DST_CID = 8, SRC_PORT = 16, DST_PORT = 20, LEN = 24, TYPE = 28, OP = 30,
            FLAGS = 32, BUF_ALLOC = 36, FWD_CNT = 40;

    private final byte[] bytes = new byte[SIZE];

    /** The raw bytes, to fill from or copy into guest memory. */
    public byte[] bytes() {
        return bytes;
    }

    public long srcCid() { return get(SRC_CID, 8); }
    public long dstCid() { return get(DST_CID, 8); }
    public long srcPort() { return get(SRC_PORT, 4); }
    public long dstPort() { return get(DST_PORT, 4); }
    public long len() { return get(LEN, 4); }
    public int type() { return (int) get(TYPE, 2); }
    public int opCode() { return (int) get(OP, 2); }
    public int flags() { return (int) get(FLAGS, 4); }
    public long bufAlloc() { return get(BUF_ALLOC, 4); }
    public long fwdCnt() { return get(FWD_CNT, 4); }

    /** Fills every field of a STREAM packet. */
    public VsockHeader set(long srcCid, long dstCid, long srcPort, long dstPort, long len, VsockOp op, int flags,
                           long bufAlloc, long fwdCnt) {
        put(SRC_CID, 8, srcCid);
        put(DST_CID, 8, dstCid);
        put(SRC_PORT, 4, srcPort);
        put(DST_PORT, 4, dstPort);
        put(LEN, 4, len);
        put(TYPE, 2, TYPE_STREAM);
        put(OP, 2, op.code());
        put(FLAGS, 4, flags);
        put(BUF_ALLOC, 4, bufAlloc);
        put(FWD_CNT, 4, fwdCnt);
        return this;
    }

    private long get(int offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) value |= (bytes[offset + i] & 0xffL) << (8 * i);
        return value;
    }

    private void put(int offset, int size, long value) {
        for (int i = 0; i < size; i++) bytes[offset + i] = (byte) (value >>> (8 * i));
    }

    @Override
    public String toString() {
        VsockOp op = VsockOp.of(opCode());
        return String.format("%s %d:%d -> %d:%d len %d flags %#x buf_alloc %d fwd_cnt %d",
                op == null ? "op " + opCode() : op, srcCid(), srcPort(), dstCid(), dstPort(), len(), flags(),
                bufAlloc(), fwdCnt());
    }
}
