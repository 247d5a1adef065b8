package io.jkvm.devices.virtio.vsock;

import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * One stream between a guest port and a host Unix socket, with both halves of the credit-based flow control
 * of virtio 1.2 §5.10.6.3. Counters are free-running u32 values, compared modulo 2^32.
 *
 * <ul>
 * <li>Guest → host: the guest may have at most {@link #BUF_ALLOC} bytes in flight that the host socket has
 * not taken ({@code rx_cnt - fwd_cnt}); they wait in {@link #outbound}. A packet beyond that overruns its
 * credit.</li>
 * <li>Host → guest: bytes are read from the host socket only as far as the guest's last {@code buf_alloc}
 * and {@code fwd_cnt} allow ({@link #peerCredit()}), so a guest that does not read stops the host writer.</li>
 * </ul>
 * All fields are guarded by the owning {@link VsockMuxer}'s monitor.
 */
final class VsockConnection {
    /** The receive buffer the device announces per connection (buf_alloc): 256 KiB, as Firecracker's. */
    static final int BUF_ALLOC = 256 * 1024;
    private static final long U32 = 0xffff_ffffL;

    enum State {
        /** Host-initiated: REQUEST sent to the guest, waiting for RESPONSE or RST. */
        CONNECTING,
        ESTABLISHED
    }

    final long localPort;
    final long peerPort;
    final SocketChannel channel;
    SelectionKey key;
    State state;
    /** {@link System#nanoTime()} by which a CONNECTING connection must be answered. */
    long deadline;

    final OutboundBuffer outbound = new OutboundBuffer(BUF_ALLOC);
    /** Guest bytes received / forwarded to the host socket; the guest last saw {@code sentFwdCnt}. */
    private long rxCnt, fwdCnt, sentFwdCnt;
    /** The guest's receive window as of its last packet, and the bytes sent to it. */
    private long peerBufAlloc, peerFwdCnt, txCnt;

    /** SHUTDOWN flags received from the guest. */
    int peerShutdown;
    /** The host socket reached end of stream; SHUTDOWN(SEND) went to the guest. */
    boolean hostEof;
    /** The host socket's output was shut after the guest's SHUTDOWN(SEND) and the buffer drained. */
    boolean hostOutputShut;

    // Readiness bookkeeping: at most one of "waiting for the socket", "queued for the rx queue" and "waiting
    // for guest credit" holds at a time.
    boolean readArmed, writeArmed, rxQueued, creditStalled;
    boolean creditUpdateQueued, creditRequestSent;

    VsockConnection(long localPort, long peerPort, SocketChannel channel, State state) {
        this.localPort = localPort;
        this.peerPort = peerPort;
        this.channel = channel;
        this.state = state;
    }

    /** The connection table key: host port and guest port. */
    static long key(long localPort, long peerPort) {
        return localPort << 32 | peerPort;
    }

    long key() {
        return key(localPort, peerPort);
    }

    /** Records the guest's window from any packet it sent on this connection (§5.10.6.3). */
    void updatePeerCredit(long bufAlloc, long fwdCnt) {
        peerBufAlloc = bufAlloc & U32;
        peerFwdCnt = fwdCnt & U32;
    }

    /** Bytes the guest can take now: buf_alloc - (tx_cnt - fwd_cnt), 0 if a guest reports nonsense. */
    long peerCredit() {
        long inFlight = (txCnt - peerFwdCnt) & U32;
        return Math.max(0, peerBufAlloc - inFlight);
    }

    /** Whether {@code length} more guest bytes fit in the window this device announced. */
    boolean fitsCredit(long length) {
        return length <= outbound.free();
    }

    void received(long length) {
        rxCnt = (rxCnt + length) & U32;
    }

    void forwarded(long length) {
        fwdCnt = (fwdCnt + length) & U32;
    }

    /**
     * Whether the guest's view of our free space has fallen below half the buffer while the host took bytes
     * it does not know of yet: time for a CREDIT_UPDATE, lest the guest stall (it does not ask).
     */
    boolean creditUpdateDue() {
        long freeAsGuestSees = BUF_ALLOC - ((rxCnt - sentFwdCnt) & U32);
        return sentFwdCnt != fwdCnt && freeAsGuestSees < BUF_ALLOC / 2;
    }

    /** Fills the connection's part of a header for the guest and accounts for it: our window, payload bytes sent. */
    void stamp(VsockHeader header, long guestCid, VsockOp op, int flags, long payload) {
        header.set(VsockMuxer.HOST_CID, guestCid, localPort, peerPort, payload, op, flags, BUF_ALLOC, fwdCnt);
        sentFwdCnt = fwdCnt;
        txCnt = (txCnt + payload) & U32;
        if (op == VsockOp.CREDIT_UPDATE) creditUpdateQueued = false;
    }

    /** The interest set the connection's readiness flags ask for. */
    int interestOps() {
        return (readArmed ? SelectionKey.OP_READ : 0) | (writeArmed ? SelectionKey.OP_WRITE : 0);
    }

    @Override
    public String toString() {
        return "host port " + localPort + " <-> guest port " + peerPort;
    }
}
