package io.jkvm.boot.agent;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The host side of the guest agent's protocol (guests/agent/PROTOCOL.md): one session per command over a
 * hybrid vsock stream to guest port {@link #PORT}. Frames are {@code u8 type, le32 length, payload}.
 */
public final class GuestAgent {
    /** The vsock port jkvm-agent listens on. */
    public static final int PORT = 52;
    /** A frame's payload at most (PROTOCOL.md). */
    static final int MAX_PAYLOAD = 64 * 1024;
    private static final int ARG = 'A', ENV = 'V', RUN = 'R', STDIN = 'I', STDOUT = 'O', STDERR = 'E', EXIT = 'X';
    private static final int EXITED = 0, SIGNALLED = 1;
    /** Shells report a command killed by signal N as status 128 + N. */
    private static final int SIGNAL_STATUS_BASE = 128;

    private final Path uds;
    private final Duration connectTimeout;

    /** An agent behind the vsock device socket {@code uds}; a session waits up to {@code connectTimeout} for it. */
    public GuestAgent(Path uds, Duration connectTimeout) {
        this.uds = uds;
        this.connectTimeout = connectTimeout;
    }

    /** Runs {@code argv} with empty stdin and collects its output. */
    public ExecResult exec(List<String> argv) throws IOException, InterruptedException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = exec(argv, Map.of(), new ByteArrayInputStream(new byte[0]), out, err);
        return new ExecResult(status, out.toByteArray(), err.toByteArray());
    }

    /**
     * Runs {@code argv} with environment {@code env} (empty: the agent's own, {@code PATH=/bin}), feeding it {@code stdin} (to its end) from another thread while its stdout and stderr
     * stream into {@code stdout} and {@code stderr} as they arrive. Returns the exit status (128 + N if signal
     * N killed it).
     *
     * @throws IOException no agent answered, or the session broke off before the exit status
     */
    public int exec(List<String> argv, Map<String, String> env, InputStream stdin, OutputStream stdout,
                    OutputStream stderr) throws IOException, InterruptedException {
        if (argv.isEmpty()) throw new IllegalArgumentException("exec needs a command");
        // The channel's own reads and writes, not Channels.newInputStream/newOutputStream: those take the
        // channel's blocking lock, so a reader waiting for output would keep the stdin feeder from writing.
        try (SocketChannel channel = HybridVsockClient.connect(uds, PORT, connectTimeout)) {
            for (String word : argv) frame(channel, ARG, word.getBytes(StandardCharsets.UTF_8));
            for (Map.Entry<String, String> e : env.entrySet())
                frame(channel, ENV, (e.getKey() + "=" + e.getValue()).getBytes(StandardCharsets.UTF_8));
            frame(channel, RUN, new byte[0]);
            Thread feeder = new Thread(() -> feed(stdin, channel), "exec-stdin");
            feeder.setDaemon(true);
            feeder.start();
            try {
                return relay(channel, stdout, stderr);
            } finally {
                channel.close(); // ends a feeder still blocked on a command that stopped reading
                feeder.join();
            }
        }
    }

    /** Copies {@code stdin} into STDIN frames, then the empty frame that closes the command's stdin. */
    private static void feed(InputStream stdin, SocketChannel toAgent) {
        byte[] chunk = new byte[MAX_PAYLOAD];
        try {
            for (int n = stdin.read(chunk); n >= 0; n = stdin.read(chunk)) {
                if (n > 0) frame(toAgent, STDIN, chunk, n);
            }
            frame(toAgent, STDIN, new byte[0]);
        } catch (IOException e) {
            // the session ended (the command exited without reading everything): nothing left to feed
        }
    }

    private static int relay(SocketChannel fromAgent, OutputStream stdout, OutputStream stderr) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(5).order(ByteOrder.LITTLE_ENDIAN);
        byte[] payload = new byte[MAX_PAYLOAD];
        while (true) {
            readFully(fromAgent, header.clear());
            int type = header.get(0) & 0xff;
            int length = header.getInt(1);
            if (length < 0 || length > MAX_PAYLOAD) throw new IOException("guest agent frame of " + length + " bytes");
            readFully(fromAgent, ByteBuffer.wrap(payload, 0, length));
            switch (type) {
                case STDOUT -> stdout.write(payload, 0, length);
                case STDERR -> stderr.write(payload, 0, length);
                case EXIT -> {
                    if (length != 8) throw new IOException("guest agent exit frame of " + length + " bytes");
                    ByteBuffer status = ByteBuffer.wrap(payload, 0, 8).order(ByteOrder.LITTLE_ENDIAN);
                    int kind = status.getInt();
                    int value = status.getInt();
                    stdout.flush();
                    stderr.flush();
                    return switch (kind) {
                        case EXITED -> value;
                        case SIGNALLED -> SIGNAL_STATUS_BASE + value;
                        default -> throw new IOException("unknown guest agent exit kind " + kind);
                    };
                }
                default -> throw new IOException("unknown guest agent frame type " + type);
            }
        }
    }

    private static void readFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) throw new IOException("the guest agent ended the session without an exit status");
        }
    }

    private static void frame(SocketChannel out, int type, byte[] payload) throws IOException {
        frame(out, type, payload, payload.length);
    }

    private static void frame(SocketChannel out, int type, byte[] payload, int length) throws IOException {
        if (length > MAX_PAYLOAD) throw new IllegalArgumentException("a frame carries at most 64 KiB, not " + length);
        // One write per frame, so that a frame travels in as few vsock packets as it can.
        ByteBuffer frame = ByteBuffer.allocate(5 + length).order(ByteOrder.LITTLE_ENDIAN);
        frame.put((byte) type).putInt(length).put(payload, 0, length).flip();
        while (frame.hasRemaining()) out.write(frame);
    }
}
