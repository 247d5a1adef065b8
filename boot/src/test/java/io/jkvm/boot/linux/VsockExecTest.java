package io.jkvm.boot.linux;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.boot.GuestArtifacts;
import io.jkvm.boot.agent.ExecResult;
import io.jkvm.boot.initramfs.Initramfs;
import io.jkvm.boot.machine.Machine;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.machine.MachineConfig.VirtioDiscovery;
import io.jkvm.boot.machine.VsockSpec;
import io.jkvm.testing.KvmTests;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Commands run in a real Linux guest through virtio-vsock and the guest agent (guests/agent), on both machine
 * kinds: the ACPI machine (devices in the DSDT) and the one without ACPI (virtio_mmio.device= on the command
 * line). One boot each serves every check.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class VsockExecTest {
    private static final Duration BOOT = Duration.ofMinutes(10);
    private static final long CID = 3;

    @TempDir Path tmp;
    private Path initramfs;

    @BeforeEach
    void initramfs() throws Exception {
        KvmTests.assumeKvm();
        initramfs = GuestArtifacts.defaultInitramfs(tmp.resolve("initramfs.cpio"), true);
    }

    private MachineConfig machine(Path kernel, int cpus) {
        return MachineConfig.of(kernel, Optional.of(initramfs), 256L << 20, cpus)
                .withVsock(Optional.of(new VsockSpec(CID, tmp.resolve("v.sock"))));
    }

    /** ACPI machine, 2 vCPUs: output and status, stdin, failures, a signal, concurrent sessions. */
    @Test
    void execOnTheAcpiMachine() throws Exception {
        try (GuestSession guest = new GuestSession(machine(GuestArtifacts.vmlinux(), 2))) {
            guest.await(Initramfs.INIT_OK_MARKER, BOOT);
            Machine vm = guest.machine();

            ExecResult uname = vm.exec(List.of("uname", "-r"));
            assertEquals(0, uname.exitCode(), uname.stderrText());
            assertTrue(uname.stdoutText().matches("6\\.1\\.\\S+\n"), "uname -r: " + uname.stdoutText());
            ExecResult failed = vm.exec(List.of("sh", "-c", "echo out; echo err >&2; exit 7"));
            assertEquals(7, failed.exitCode());
            assertEquals("out\n", failed.stdoutText());
            assertEquals("err\n", failed.stderrText());

            byte[] input = new byte[10 << 20];
            new Random(11).nextBytes(input);
            ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
            assertEquals(0, vm.exec(List.of("sha256sum"), Map.of(), new ByteArrayInputStream(input), out, err), err.toString());
            assertEquals(sha256(input) + "  -\n", out.toString(StandardCharsets.US_ASCII), "10 MiB of stdin arrived intact");

            ByteArrayOutputStream envOut = new ByteArrayOutputStream();
            assertEquals(0, vm.exec(List.of("sh", "-c", "echo $GREETING"), Map.of("GREETING", "hi there"),
                    InputStream.nullInputStream(), envOut, OutputStream.nullOutputStream()));
            assertEquals("hi there\n", envOut.toString(StandardCharsets.UTF_8), "the environment given");

            ExecResult missing = vm.exec(List.of("no-such-program"));
            assertEquals(127, missing.exitCode());
            assertTrue(missing.stderrText().contains("no-such-program"), missing.stderrText());
            assertEquals(128 + 9, vm.exec(List.of("sh", "-c", "kill -9 $$")).exitCode(), "killed by SIGKILL");
            assertEquals(128 + 15, vm.exec(List.of("sh", "-c", "kill -TERM $$")).exitCode(), "killed by SIGTERM");

            assertConcurrentSessions(vm, 8);
            assertEquals(0, vm.exec(List.of("true")).exitCode(), "sessions keep working afterwards");
            assertGuestConnects(vm);
        }
    }

    /** The machine without ACPI: the vsock device is found on the kernel command line. */
    @Test
    void execOnTheCmdlineMachine() throws Exception {
        MachineConfig config = machine(GuestArtifacts.vmlinux(), 1).withDiscovery(VirtioDiscovery.CMDLINE);
        try (GuestSession guest = new GuestSession(config)) {
            guest.await(Initramfs.INIT_OK_MARKER, BOOT);
            Machine vm = guest.machine();
            assertTrue(vm.exec(List.of("cat", "/proc/cmdline")).stdoutText().contains("virtio_mmio.device="));
            ExecResult uname = vm.exec(List.of("uname", "-r"));
            assertEquals(0, uname.exitCode());
            assertTrue(uname.stdoutText().startsWith("6.1."));
            assertEquals(3, vm.exec(List.of("sh", "-c", "exit 3")).exitCode());
            assertConcurrentSessions(vm, 8);
            assertGuestConnects(vm);
        }
    }

    /**
     * Guest-initiated: {@code jkvm-agent connect} to host port P reaches the Unix socket {@code <uds>_P}. The
     * guest sends 2 MiB and half-closes; the host, at end of stream, answers with the SHA-256 of what it got,
     * which must be what the guest computed. With nobody listening on a port the guest's connect is reset.
     */
    private void assertGuestConnects(Machine vm) throws Exception {
        int port = 1234;
        ExecutorService host = Executors.newSingleThreadExecutor();
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(tmp.resolve("v.sock_" + port)));
            Future<?> answered = host.submit(() -> {
                try (SocketChannel connection = listener.accept()) {
                    byte[] received = Channels.newInputStream(connection).readAllBytes();
                    connection.write(ByteBuffer.wrap((sha256(received) + "\n").getBytes(StandardCharsets.US_ASCII)));
                }
                return null;
            });
            ExecResult sent = vm.exec(List.of("sh", "-c", "head -c 2097152 /dev/urandom > /tmp/blob"
                    + " && sha256sum < /tmp/blob && jkvm-agent connect " + port + " < /tmp/blob"));
            assertEquals(0, sent.exitCode(), sent.stderrText());
            answered.get(1, TimeUnit.MINUTES);
            String[] lines = sent.stdoutText().split("\n");
            assertEquals(2, lines.length, sent.stdoutText());
            assertEquals(lines[0], lines[1] + "  -", "the host received the 2 MiB the guest sent");
        } finally {
            host.shutdownNow();
        }
        ExecResult refused = vm.exec(List.of("jkvm-agent", "connect", String.valueOf(port + 1)));
        assertEquals(1, refused.exitCode());
        assertTrue(refused.stderrText().contains("Connection reset"), "RST from the device: " + refused.stderrText());
    }

    /** {@code n} sessions at once, each holding its command open until all have started. */
    private static void assertConcurrentSessions(Machine vm, int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<ExecResult>> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String session = String.valueOf(i);
                String script = "touch /tmp/started-$0; while [ $(ls /tmp | grep -c started-) -lt " + n + " ]; do sleep 0.1; done;"
                        + " echo session $0; seq 1 2000 | wc -l";
                results.add(pool.submit(() -> vm.exec(List.of("sh", "-c", script, session))));
            }
            for (int i = 0; i < n; i++) {
                ExecResult r = results.get(i).get(5, TimeUnit.MINUTES);
                assertEquals(0, r.exitCode(), r.stderrText());
                assertEquals("session " + i + "\n2000\n", r.stdoutText());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
