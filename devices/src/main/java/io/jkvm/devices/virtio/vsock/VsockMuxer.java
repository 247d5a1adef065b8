package io.jkvm.devices.virtio.vsock;

import io.jkvm.devices.virtio.DescriptorChain;
import io.jkvm.devices.virtio.GuestErrorLog;
import io.jkvm.devices.virtio.ThreadEnd;
import io.jkvm.devices.virtio.vsock.VsockConnection.State;
import io.jkvm.memory.GuestMemory;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The host side of the vsock device, Firecracker's "hybrid vsock" (Firecracker docs/vsock.md): guest streams
 * meet Unix sockets.
 * <ul>
 * <li>Host-initiated: a program connects to {@code PATH} and writes {@code CONNECT <port>\n}; the muxer sends
 * REQUEST to the guest port from a new host port (from 2^30 up) and, on RESPONSE, answers {@code OK
 * <host-port>\n} and relays bytes; on RST or after {@link #CONNECT_TIMEOUT_NANOS} it closes the stream.</li>
 * <li>Guest-initiated: a REQUEST to host port P connects to the Unix socket {@code PATH_P}; RESPONSE if it
 * accepts, RST if nobody listens.</li>
 * </ul>
 * One selector thread watches the listener and every host socket; the device's tx queue thread hands guest
 * packets in ({@link #fromGuest}), its rx queue thread takes packets out ({@link #toGuest}). All state is
 * guarded by this object's monitor, taken last (after a queue's lock), so the threads cannot deadlock. Nothing
 * here blocks: sockets are non-blocking, and a slow host reader leaves guest bytes in a connection's
 * {@link OutboundBuffer}, bounded by the credit the guest was given.
 */
public final class VsockMuxer implements AutoCloseable {
    /** §5.10.4: the well-known CID of the host. */
    public static final long HOST_CID = 2;
    /** The first host port of host-initiated connections (Firecracker's choice, above the ports guests use). */
    public static final long FIRST_LOCAL_PORT = 1L << 30;
    /** Open streams (and host streams still writing their CONNECT line) at most. */
    public static final int MAX_CONNECTIONS = 128;
    /** How long a host program has to send its CONNECT line, and the guest to answer the REQUEST that follows. */
    static final long CONNECT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** Control packets waiting for rx buffers at most: a few per connection, plus RSTs to unknown ports. */
    static final int MAX_PENDING_CONTROL = 4 * MAX_CONNECTIONS;
    /** Payload per packet at most: Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE. */
    static final int MAX_PAYLOAD = 64 * 1024;

    /** A header-only packet for the guest, sent when rx buffers are available. */
    private record Control(VsockOp op, long localPort, long peerPort, int flags) {}

    private final long guestCid;
    private final Path path;
    private final Runnable rxWakeup;
    private final GuestErrorLog log;
    private final ServerSocketChannel listener;
    private final Selector selector;
    private final Thread thread;

    private final Map<Long, VsockConnection> connections = new HashMap<>();
    private final ArrayDeque<Control> control = new ArrayDeque<>();
    private final ArrayDeque<VsockConnection> rxReady = new ArrayDeque<>();
    private final VsockHeader rxHeader = new VsockHeader();
    /** Payload staging, one per direction (the tx and rx queue threads may wait for the monitor in turn). */
    private final byte[] txBytes = new byte[MAX_PAYLOAD], rxBytes = new byte[MAX_PAYLOAD];
    /** The connection whose host bytes wait in {@code rxBytes[stagedOffset, stagedLength)}, or null. */
    private VsockConnection staged;
    private int stagedOffset, stagedLength;
    private int connectLines;
    private long nextLocalPort = FIRST_LOCAL_PORT;
    private volatile boolean closed;

    /**
     * Listens on {@code path} (a stale socket file there is replaced). {@code rxWakeup} asks for the rx queue
     * to be serviced; the selector thread starts at once.
     *
     * @throws IOException the socket cannot be created (the message names the path)
     */
    public VsockMuxer(long guestCid, Path path, Runnable rxWakeup) throws IOException {
        this.guestCid = guestCid;
        this.path = path;
        this.rxWakeup = rxWakeup;
        this.log = new GuestErrorLog(VsockMuxer.class, "virtio-vsock " + path);
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS))
                throw new IOException(path + ": exists and is not a socket");
            Files.delete(path);
        }
        selector = Selector.open();
        ServerSocketChannel server = null;
        try {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(path));
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException | RuntimeException e) {
            if (server != null) server.close();
            selector.close();
            throw new IOException(path + ": " + e.getMessage(), e);
        }
        listener = server;
        thread = new Thread(this::selectLoop, "vsock-" + path.getFileName());
        thread.setDaemon(true);
        thread.start();
    }

    /** Open connections (for tests and limits). */
    public synchronized int connectionCount() {
        return connections.size();
    }

    // ---- guest side -------------------------------------------------------------------------------------

    /**
     * One packet the guest sent (tx queue, §5.10.6.2): {@code header} is already read from the chain and its
     * addressing checked; the payload follows it in the chain's readable part.
     */
    synchronized void fromGuest(VsockHeader header, DescriptorChain chain, GuestMemory memory) {
        VsockOp op = VsockOp.of(header.opCode());
        long localPort = header.dstPort(), peerPort = header.srcPort();
        if (header.type() != VsockHeader.TYPE_STREAM || op == null) {
            log.warnOnce("bad-packet", "unsupported packet reset: " + header);
            if (op != VsockOp.RST) queueControl(VsockOp.RST, localPort, peerPort, 0);
            return;
        }
        VsockConnection c = connections.get(VsockConnection.key(localPort, peerPort));
        if (c == null) {
            if (op == VsockOp.REQUEST) connectToHost(localPort, peerPort, header);
            else if (op != VsockOp.RST) queueControl(VsockOp.RST, localPort, peerPort, 0);
            return;
        }
        c.updatePeerCredit(header.bufAlloc(), header.fwdCnt());
        if (c.creditStalled && c.peerCredit() > 0) {
            c.creditStalled = false;
            c.creditRequestSent = false;
            queueRx(c);
        }
        switch (op) {
            case REQUEST -> reset(c, "REQUEST on an open connection");
            case RESPONSE -> {
                if (c.state == State.CONNECTING) established(c);
                else reset(c, "RESPONSE on an established connection");
            }
            case RST -> drop(c);
            case SHUTDOWN -> shutdownFromGuest(c, header.flags());
            case RW -> receive(c, header, chain, memory);
            case CREDIT_UPDATE -> { } // the window was taken from the header above
            case CREDIT_REQUEST -> queueCreditUpdate(c);
        }
    }

    /**
     * Whether a packet is waiting for the guest: a control packet, or host bytes staged for an rx buffer. Stages
     * them first if none are: reads the next readable connection's socket, as far as the guest's credit lets,
     * so that the rx queue takes a buffer only for a packet that exists.
     */
    synchronized boolean hasPacketForGuest() {
        return !control.isEmpty() || staged != null || stageData();
    }

    private boolean stageData() {
        VsockConnection c;
        while ((c = rxReady.poll()) != null) {
            c.rxQueued = false;
            if (c.state != State.ESTABLISHED || (c.peerShutdown & VsockHeader.SHUTDOWN_RCV) != 0 || c.hostEof) continue;
            long credit = c.peerCredit();
            if (credit == 0) {
                c.creditStalled = true; // until the guest's next packet brings credit
                if (c.creditRequestSent) continue;
                c.creditRequestSent = true;
                queueControl(VsockOp.CREDIT_REQUEST, c.localPort, c.peerPort, 0);
                return true;
            }
            int n;
            try {
                n = c.channel.read(ByteBuffer.wrap(rxBytes, 0, (int) Math.min(credit, MAX_PAYLOAD)));
            } catch (IOException e) {
                reset(c, null);
                return true;
            }
            if (n == 0) {
                setInterest(c, true, c.writeArmed);
                continue;
            }
            if (n < 0) {
                c.hostEof = true;
                queueControl(VsockOp.SHUTDOWN, c.localPort, c.peerPort, VsockHeader.SHUTDOWN_SEND);
                settle(c);
                return true;
            }
            staged = c;
            stagedOffset = 0;
            stagedLength = n;
            return true;
        }
        return false;
    }

    /**
     * Writes the next packet for the guest into {@code chain}'s writable part (§5.10.6.1): the header, then
     * staged payload, as much as the chain takes. Returns the used length; 0 if the packet vanished since
     * {@link #hasPacketForGuest} (its connection was reset meanwhile). The chain must be writable-only with
     * room for a header.
     */
    synchronized int toGuest(DescriptorChain chain, GuestMemory memory) {
        Control next = control.poll();
        if (next != null) {
            VsockConnection open = connections.get(VsockConnection.key(next.localPort(), next.peerPort()));
            return header(chain, memory, open, next.localPort(), next.peerPort(), next.op(), next.flags());
        }
        VsockConnection c = staged;
        int n = c == null ? 0 : (int) Math.min(stagedLength - stagedOffset, chain.writableBytes() - VsockHeader.SIZE);
        if (n == 0) return 0;
        c.stamp(rxHeader, guestCid, VsockOp.RW, 0, n);
        chain.writeWritable(memory, 0, rxHeader.bytes(), VsockHeader.SIZE);
        chain.writeWritable(memory, VsockHeader.SIZE, rxBytes, stagedOffset, n);
        stagedOffset += n;
        if (stagedOffset == stagedLength) {
            staged = null;
            c.rxQueued = true; // more may be waiting: back of the line, after the other readable connections
            rxReady.add(c);
        }
        return VsockHeader.SIZE + n;
    }

    private int header(DescriptorChain chain, GuestMemory memory, VsockConnection c, VsockOp op, int flags) {
        return header(chain, memory, c, c.localPort, c.peerPort, op, flags);
    }

    /** A header-only packet between two ports, stamped with the window of {@code open} (null: no connection). */
    private int header(DescriptorChain chain, GuestMemory memory, VsockConnection open, long localPort, long peerPort,
                       VsockOp op, int flags) {
        if (open != null) open.stamp(rxHeader, guestCid, op, flags, 0);
        else rxHeader.set(HOST_CID, guestCid, localPort, peerPort, 0, op, flags, 0, 0);
        chain.writeWritable(memory, 0, rxHeader.bytes(), VsockHeader.SIZE);
        return VsockHeader.SIZE;
    }

    /** The driver reset the device (§2.4): every stream ends; the listener stays. */
    public synchronized void reset() {
        for (VsockConnection c : connections.values()) closeChannel(c);
        connections.clear();
        control.clear();
        rxReady.clear();
        staged = null;
        selector.wakeup();
    }

    // ---- connection life cycle --------------------------------------------------------------------------

    /** Guest-initiated: REQUEST to host port {@code localPort} connects to {@code PATH_<localPort>}. */
    private void connectToHost(long localPort, long peerPort, VsockHeader header) {
        if (connections.size() + connectLines >= MAX_CONNECTIONS) {
            log.warnOnce("limit", "connection limit of " + MAX_CONNECTIONS + " reached; REQUEST reset");
            queueControl(VsockOp.RST, localPort, peerPort, 0);
            return;
        }
        SocketChannel channel = null;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.configureBlocking(false);
            if (!channel.connect(UnixDomainSocketAddress.of(path + "_" + localPort))) throw new IOException("connect pending");
        } catch (IOException | RuntimeException e) {
            if (channel != null) closeQuietly(channel);
            queueControl(VsockOp.RST, localPort, peerPort, 0); // nobody listens there
            return;
        }
        VsockConnection c = new VsockConnection(localPort, peerPort, channel, State.ESTABLISHED);
        c.updatePeerCredit(header.bufAlloc(), header.fwdCnt());
        if (!register(c)) return;
        connections.put(c.key(), c);
        queueControl(VsockOp.RESPONSE, localPort, peerPort, 0);
        setInterest(c, true, false);
    }

    /** Host-initiated: a complete CONNECT line on {@code channel} (already registered as {@code key}). */
    private void connectToGuest(SelectionKey key, long guestPort) {
        while (connections.containsKey(VsockConnection.key(nextLocalPort, guestPort)))
            nextLocalPort = nextLocalPort == 0xffff_ffffL ? FIRST_LOCAL_PORT : nextLocalPort + 1;
        long localPort = nextLocalPort;
        nextLocalPort = nextLocalPort == 0xffff_ffffL ? FIRST_LOCAL_PORT : nextLocalPort + 1;
        VsockConnection c = new VsockConnection(localPort, guestPort, (SocketChannel) key.channel(), State.CONNECTING);
        c.key = key;
        key.attach(c);
        key.interestOps(0);
        c.deadline = System.nanoTime() + CONNECT_TIMEOUT_NANOS;
        connections.put(c.key(), c);
        queueControl(VsockOp.REQUEST, localPort, guestPort, 0);
    }

    private void established(VsockConnection c) {
        c.state = State.ESTABLISHED;
        byte[] ok = ConnectLine.ok(c.localPort);
        try {
            if (c.channel.write(ByteBuffer.wrap(ok)) != ok.length) throw new IOException("host socket full");
        } catch (IOException e) {
            reset(c, null);
            return;
        }
        setInterest(c, true, false);
    }

    /** RW from the guest: to the host socket as far as it takes, the rest into the connection's buffer. */
    private void receive(VsockConnection c, VsockHeader header, DescriptorChain chain, GuestMemory memory) {
        long length = header.len();
        if (length > chain.readableBytes() - VsockHeader.SIZE) {
            reset(c, "RW packet shorter than its len field");
            return;
        }
        if (c.state != State.ESTABLISHED || (c.peerShutdown & VsockHeader.SHUTDOWN_SEND) != 0) {
            reset(c, "RW on a connection not open for guest data");
            return;
        }
        if (!c.fitsCredit(length)) {
            reset(c, "guest overran its credit");
            return;
        }
        c.received(length);
        try {
            for (long done = 0; done < length; ) {
                int n = (int) Math.min(txBytes.length, length - done);
                chain.readReadable(memory, VsockHeader.SIZE + done, txBytes, n);
                int written = c.outbound.isEmpty() ? c.channel.write(ByteBuffer.wrap(txBytes, 0, n)) : 0;
                c.forwarded(written);
                c.outbound.append(txBytes, written, n - written);
                done += n;
            }
        } catch (IOException e) {
            reset(c, null);
            return;
        }
        if (!c.outbound.isEmpty()) setInterest(c, c.readArmed, true);
        queueCreditUpdateIfDue(c);
    }

    private void shutdownFromGuest(VsockConnection c, int flags) {
        c.peerShutdown |= flags & (VsockHeader.SHUTDOWN_RCV | VsockHeader.SHUTDOWN_SEND);
        if ((c.peerShutdown & VsockHeader.SHUTDOWN_RCV) != 0) {
            rxReady.remove(c);
            c.rxQueued = false;
            setInterest(c, false, c.writeArmed);
        }
        settle(c);
    }

    /**
     * Ends what is finished once the guest's bytes are all with the host: the host socket's output after
     * SHUTDOWN(SEND); the whole connection (RST to the guest, as Linux expects after its full SHUTDOWN) when
     * the guest shut both directions, or its sending side while the host's had ended.
     */
    private void settle(VsockConnection c) {
        if (!c.outbound.isEmpty() || !connections.containsKey(c.key())) return;
        boolean guestSendDone = (c.peerShutdown & VsockHeader.SHUTDOWN_SEND) != 0;
        boolean guestBoth = c.peerShutdown == (VsockHeader.SHUTDOWN_RCV | VsockHeader.SHUTDOWN_SEND);
        if (guestBoth || (guestSendDone && c.hostEof)) {
            reset(c, null);
            return;
        }
        if (guestSendDone && !c.hostOutputShut) {
            c.hostOutputShut = true;
            try {
                c.channel.shutdownOutput();
            } catch (IOException e) {
                reset(c, null);
            }
        }
    }

    /** Closes the host stream and resets the guest side; {@code why}, if given, is guest misbehaviour to log. */
    private void reset(VsockConnection c, String why) {
        if (why != null) log.warnOnce(why, why + " (" + c + "); connection reset");
        drop(c);
        queueControl(VsockOp.RST, c.localPort, c.peerPort, 0);
    }

    /** Forgets the connection and closes its host stream (the guest reset it, or is being told so). */
    private void drop(VsockConnection c) {
        connections.remove(c.key());
        if (staged == c) staged = null;
        if (c.rxQueued) rxReady.remove(c);
        c.rxQueued = false;
        closeChannel(c);
    }

    private void queueRx(VsockConnection c) {
        if (c.rxQueued) return;
        c.rxQueued = true;
        rxReady.add(c);
        rxWakeup.run();
    }

    private void queueCreditUpdate(VsockConnection c) {
        if (c.creditUpdateQueued) return;
        c.creditUpdateQueued = true;
        queueControl(VsockOp.CREDIT_UPDATE, c.localPort, c.peerPort, 0);
    }

    private void queueCreditUpdateIfDue(VsockConnection c) {
        if (c.creditUpdateDue()) queueCreditUpdate(c);
    }

    private void queueControl(VsockOp op, long localPort, long peerPort, int flags) {
        if (control.size() >= MAX_PENDING_CONTROL) {
            log.warnOnce("control-full", "guest posts no rx buffers; " + op + " to port " + peerPort + " dropped");
            return;
        }
        control.add(new Control(op, localPort, peerPort, flags));
        rxWakeup.run();
    }

    // ---- host side --------------------------------------------------------------------------------------

    private void selectLoop() {
        try {
            while (!closed) {
                selector.select(hasConnecting() ? TimeUnit.NANOSECONDS.toMillis(CONNECT_TIMEOUT_NANOS) / 10 : 0);
                synchronized (this) {
                    if (closed) break;
                    for (SelectionKey key : selector.selectedKeys()) onReady(key);
                    selector.selectedKeys().clear();
                    expireConnecting();
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) log.errorOnce("selector", "host socket thread failed; vsock streams stop", e);
        }
    }

    private synchronized boolean hasConnecting() {
        if (connectLines > 0) return true;
        for (VsockConnection c : connections.values()) if (c.state == State.CONNECTING) return true;
        return false;
    }

    /** Closes host streams whose CONNECT line, or the guest's answer to it, is overdue. */
    private void expireConnecting() {
        long now = System.nanoTime();
        for (VsockConnection c : connections.values().toArray(VsockConnection[]::new)) {
            if (c.state == State.CONNECTING && now - c.deadline > 0) reset(c, null);
        }
        for (SelectionKey key : selector.keys()) {
            if (key.isValid() && key.attachment() instanceof ConnectLine line && now - line.deadline > 0) {
                key.cancel();
                closeQuietly(key.channel());
                connectLines--;
            }
        }
    }

    private void onReady(SelectionKey key) {
        if (!key.isValid()) return;
        if (key.channel() == listener) {
            accept();
        } else if (key.attachment() instanceof ConnectLine line) {
            readConnectLine(key, line);
        } else if (key.attachment() instanceof VsockConnection c && connections.get(c.key()) == c) {
            if (key.isWritable()) drain(c);
            if (key.isValid() && key.isReadable() && connections.get(c.key()) == c) {
                setInterest(c, false, c.writeArmed);
                queueRx(c);
            }
        }
    }

    private void accept() {
        try {
            for (SocketChannel s = listener.accept(); s != null; s = listener.accept()) {
                if (connections.size() + connectLines >= MAX_CONNECTIONS) {
                    closeQuietly(s); // Firecracker too refuses beyond its limit by closing
                    continue;
                }
                s.configureBlocking(false);
                s.register(selector, SelectionKey.OP_READ, new ConnectLine(System.nanoTime() + CONNECT_TIMEOUT_NANOS));
                connectLines++;
            }
        } catch (IOException e) {
            log.errorOnce("accept", "accept on " + path + " failed", e);
        }
    }

    private void readConnectLine(SelectionKey key, ConnectLine line) {
        SocketChannel s = (SocketChannel) key.channel();
        ByteBuffer one = ByteBuffer.allocate(1);
        long port = ConnectLine.MORE;
        try {
            while (port == ConnectLine.MORE) {
                one.clear();
                int n = s.read(one);
                if (n == 0) return;
                port = n < 0 ? ConnectLine.MALFORMED : line.add(one.get(0));
            }
        } catch (IOException e) {
            port = ConnectLine.MALFORMED;
        }
        connectLines--;
        if (port == ConnectLine.MALFORMED) {
            key.cancel();
            closeQuietly(s);
        } else {
            connectToGuest(key, port);
        }
    }

    /** The host socket can take more: hand it buffered guest bytes, and tell the guest about the room. */
    private void drain(VsockConnection c) {
        try {
            c.forwarded(c.outbound.drainTo(c.channel));
        } catch (IOException e) {
            reset(c, null);
            return;
        }
        if (c.outbound.isEmpty()) setInterest(c, c.readArmed, false);
        queueCreditUpdateIfDue(c);
        settle(c);
    }

    private boolean register(VsockConnection c) {
        try {
            c.key = c.channel.register(selector, 0, c);
            return true;
        } catch (ClosedChannelException e) {
            queueControl(VsockOp.RST, c.localPort, c.peerPort, 0);
            return false;
        }
    }

    private void setInterest(VsockConnection c, boolean read, boolean write) {
        c.readArmed = read;
        c.writeArmed = write;
        if (c.key == null || !c.key.isValid()) return;
        c.key.interestOps(c.interestOps());
        if (Thread.currentThread() != thread) selector.wakeup();
    }

    private void closeChannel(VsockConnection c) {
        if (c.key != null) c.key.cancel();
        closeQuietly(c.channel);
        // A registered channel's descriptor is released by the selector's next round: wake it, so the host
        // program sees end of stream now.
        if (Thread.currentThread() != thread) selector.wakeup();
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing a socket: nothing left to do
        }
    }

    /** Stops the selector thread, closes every stream and the listener, and removes the socket file. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        selector.wakeup();
        ThreadEnd.await(thread);
        synchronized (this) {
            for (SelectionKey key : selector.keys()) closeQuietly(key.channel());
            connections.clear();
            closeQuietly(selector);
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // the socket file of a stopped VM: nothing listens there any more either way
        }
    }
}
