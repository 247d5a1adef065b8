package io.jkvm.boot.agent;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host side of exec against a stand-in for the VMM's hybrid vsock socket and the guest agent, speaking
 * guests/agent/PROTOCOL.md: the stand-in echoes stdin to stdout, writes its argv to stderr and exits with the
 * status its first word names ("exit N" or "signal N"). The real agent is exercised by the Linux tests.
 */
class GuestAgentTest {
    @TempDir Path dir;
    private ServerSocketChannel server;
    private Thread thread;
    /** Connections to reset before one is accepted, as while the guest's agent is not yet listening. */
    private final AtomicInteger refusals = new AtomicInteger();

    private Path start() throws IOException {
        Path uds = dir.resolve("v.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(uds));
        thread = new Thread(this::serve, "fake-agent");
        thread.setDaemon(true);
        thread.start();
        return uds;
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        thread.join(5000);
    }

    private void serve() {
        try {
            while (true) {
                SocketChannel s = server.accept();
                Thread session = new Thread(() -> session(s));
                session.setDaemon(true);
                session.start();
            }
        } catch (IOException e) {
            // server closed
        }
    }

    private void session(SocketChannel s) {
        try (s) {
            DataInputStream in = new DataInputStream(Channels.newInputStream(s));
            OutputStream out = Channels.newOutputStream(s);
            StringBuilder line = new StringBuilder();
            for (int c = in.read(); c != '\n'; c = in.read()) line.append((char) c);
            assertEquals("CONNECT " + GuestAgent.PORT, line.toString());
            if (refusals.getAndDecrement() > 0) return; // the VMM closes the stream on the guest's RST
            out.write("OK 1073741824\n".getBytes(StandardCharsets.US_ASCII));
            List<String> argv = new ArrayList<>(), env = new ArrayList<>();
            for (int type = in.read(); type != 'R'; type = in.read())
                (type == 'A' ? argv : env).add(new String(payload(in), StandardCharsets.UTF_8));
            payload(in);
            frame(out, 'E', (String.join(" ", argv) + (env.isEmpty() ? "" : " | " + String.join(" ", env)))
                    .getBytes(StandardCharsets.UTF_8));
            for (int type = in.read(); type == 'I'; type = in.read()) {
                byte[] data = payload(in);
                if (data.length == 0) break;
                frame(out, 'O', data);
            }
            String[] verdict = argv.get(0).split(" ");
            frame(out, 'X', ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(verdict[0].equals("signal") ? 1 : 0).putInt(Integer.parseInt(verdict[1])).array());
        } catch (IOException e) {
            // the client went away
        }
    }

    private static byte[] payload(DataInputStream in) throws IOException {
        byte[] data = new byte[Integer.reverseBytes(in.readInt())];
        in.readFully(data);
        return data;
    }

    private static void frame(OutputStream out, int type, byte[] payload) throws IOException {
        out.write(ByteBuffer.allocate(5 + payload.length).order(ByteOrder.LITTLE_ENDIAN)
                .put((byte) type).putInt(payload.length).put(payload).array());
    }

    @Test
    void collectsOutputAndTheExitStatus() throws Exception {
        GuestAgent agent = new GuestAgent(start(), Duration.ofSeconds(5));
        ExecResult r = agent.exec(List.of("exit 3", "ünïcode"));
        assertEquals(3, r.exitCode());
        assertEquals("exit 3 ünïcode", r.stderrText());
        assertEquals("", r.stdoutText());
        assertEquals(128 + 9, agent.exec(List.of("signal 9")).exitCode(), "killed by SIGKILL, reported as shells do");
    }

    @Test
    void streamsStdinInFramesAndWaitsForTheAgent() throws Exception {
        refusals.set(3);
        GuestAgent agent = new GuestAgent(start(), Duration.ofSeconds(5));
        byte[] input = new byte[200_000];
        for (int i = 0; i < input.length; i++) input[i] = (byte) i;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        assertEquals(0, agent.exec(List.of("exit 0"), Map.of("A", "1"), new ByteArrayInputStream(input), out, err));
        assertArrayEquals(input, out.toByteArray());
        assertEquals("exit 0 | A=1", err.toString(StandardCharsets.UTF_8), "argv and environment arrive as A and V frames");
        assertEquals(-1, refusals.get(), "three refusals, then the session");
    }

    @Test
    void noAgentWithinTheTimeoutIsAnIOException() throws Exception {
        refusals.set(Integer.MAX_VALUE);
        GuestAgent agent = new GuestAgent(start(), Duration.ofMillis(300));
        IOException e = assertThrows(IOException.class, () -> agent.exec(List.of("exit 0")));
        assertTrue(e.getMessage().contains("nothing accepted guest port 52"), e.getMessage());
        InputStream unused = InputStream.nullInputStream();
        assertThrows(IllegalArgumentException.class, () -> agent.exec(List.of(), Map.of(), unused, OutputStream.nullOutputStream(),
                OutputStream.nullOutputStream()));
    }
}
