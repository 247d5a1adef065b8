package io.jkvm.boot.agent;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The host end of a host-initiated stream over jkvm's (Firecracker's) hybrid vsock: connect to the device's
 * Unix socket, write {@code CONNECT <port>\n}, read {@code OK <host-port>\n}. The VMM closes the stream
 * instead when the guest resets the connection (nobody listens on the port yet), so this retries until a
 * deadline: right after boot the guest's listener may not be up.
 */
public final class HybridVsockClient {
    private static final Duration RETRY = Duration.ofMillis(100);
    /** "OK 4294967295\n" is 14 bytes. */
    private static final int MAX_REPLY = 32;

    private HybridVsockClient() {}

    /**
     * A blocking stream to guest port {@code port}.
     *
     * @throws NoSuchFileException the socket does not exist
     * @throws IOException nothing accepted on the guest port within {@code timeout}, or the socket is not a
     *                     hybrid vsock (the message says which)
     */
    public static SocketChannel connect(Path uds, long port, Duration timeout) throws IOException, InterruptedException {
        if (!Files.exists(uds)) throw new NoSuchFileException(uds.toString(), null, "no vsock socket");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(uds));
            String reply;
            try {
                channel.write(ByteBuffer.wrap(("CONNECT " + port + "\n").getBytes(StandardCharsets.US_ASCII)));
                reply = readLine(channel);
            } catch (IOException e) {
                channel.close();
                throw e;
            }
            if (reply != null && reply.startsWith("OK ")) return channel;
            channel.close();
            if (reply != null) throw new IOException(uds + ": not a hybrid vsock socket (it answered '" + reply + "')");
            if (System.nanoTime() - deadline > 0)
                throw new IOException(uds + ": nothing accepted guest port " + port + " within " + timeout.toSeconds() + " s");
            Thread.sleep(RETRY.toMillis());
        }
    }

    /** The reply line without its newline, or null if the stream ended first (the guest reset the connection). */
    private static String readLine(SocketChannel channel) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        StringBuilder line = new StringBuilder();
        while (line.length() < MAX_REPLY) {
            one.clear();
            if (channel.read(one) < 0) return null;
            char c = (char) (one.get(0) & 0xff);
            if (c == '\n') return line.toString();
            line.append(c);
        }
        return line.toString();
    }
}
