package io.jkvm.boot.linux;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.boot.GuestArtifacts;
import io.jkvm.boot.initramfs.Initramfs;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.machine.MachineConfig.VirtioDiscovery;
import io.jkvm.boot.machine.NetSpec;
import io.jkvm.kvm.RunOutcome;
import io.jkvm.testing.KvmTests;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-net with a real Linux guest over a real TAP. The test makes a network namespace of its own, lets jkvm
 * create the TAP, moves the TAP into that namespace and gives it 10.0.2.1/24 there; the guest takes 10.0.2.2
 * with busybox {@code ip}. Nothing outside that namespace is addressed. The host's ends of the transfers are
 * busybox {@code nc} run with {@code ip netns exec}. A listening nc hands the connection to
 * {@code sh -c 'cat > FILE'} ({@code -e}), which ends with the peer's FIN: a plain listening nc would end at
 * the EOF of its own stdin and cut the transfer short.
 *
 * <p>Transfer size: {@link #TRANSFER_MIB} MiB each way, but {@link #NESTED_TRANSFER_MIB} MiB under
 * nested KVM ({@code JKVM_NESTED=1}, set by scripts/nested-kvm.sh), where QEMU TCG emulates every instruction
 * of the guest, its kernel and jkvm alike. Measured there (2026-12-02, one nested vCPU): 16 MiB host->guest
 * in 11.2 s, guest->host in 44.4 s (1.4 and 0.4 MiB/s), the whole class (two boots) in 190 s; 64 MiB would
 * add about 2.5 minutes to a CI stage that runs every KVM test class.
 */
class NetworkTest {
    static final int TRANSFER_MIB = 64;
    static final int NESTED_TRANSFER_MIB = 16;
    private static final Duration BOOT = Duration.ofMinutes(10);
    private static final Duration COMMAND = Duration.ofMinutes(2);
    private static final Duration TRANSFER = Duration.ofMinutes(15);
    private static final String HOST_ADDRESS = "10.0.2.1", GUEST_ADDRESS = "10.0.2.2";
    private static final String GUEST_MAC = "02:00:00:00:00:02";

    @TempDir Path tmp;
    private Path initramfs;
    private final String namespace = "jkvm-net-" + ProcessHandle.current().pid();
    private String tap;
    private boolean namespaceMade;
    private static int taps;

    @BeforeEach
    void setUp() throws Exception {
        KvmTests.assumeKvm();
        HostTools.require("ip");
        initramfs = tmp.resolve("initramfs.cpio");
        try (OutputStream out = Files.newOutputStream(initramfs)) {
            Initramfs.writeBusybox(GuestArtifacts.busybox(), out);
        }
        tap = "jkvmt" + ProcessHandle.current().pid() % 1_000_000 + "-" + taps++;
        HostTools.run("ip", "netns", "add", namespace);
        namespaceMade = true;
    }

    @AfterEach
    void deleteNamespace() throws Exception {
        if (namespaceMade) new ProcessBuilder("ip", "netns", "del", namespace).start().waitFor(1, TimeUnit.MINUTES);
    }

    private MachineConfig machine(Path kernel) {
        return MachineConfig.of(kernel, Optional.of(initramfs), 512L << 20, 1)
                .withNets(List.of(NetSpec.parse("tap=" + tap + ",mac=" + GUEST_MAC + ",id=net0")));
    }

    /** jkvm has created the TAP in the test's own namespace: move it into the test's namespace and address it. */
    private void hostSide() throws Exception {
        HostTools.run("ip", "link", "set", tap, "netns", namespace);
        HostTools.run("ip", "-n", namespace, "addr", "add", HOST_ADDRESS + "/24", "dev", tap);
        HostTools.run("ip", "-n", namespace, "link", "set", tap, "up");
    }

    private static void guestSide(GuestSession guest) throws Exception {
        guest.await(Initramfs.INIT_OK_MARKER, BOOT);
        String link = guest.run("ip link set eth0 up && ip addr add " + GUEST_ADDRESS + "/24 dev eth0"
                + " && cat /sys/class/net/eth0/address", COMMAND);
        assertTrue(link.contains(GUEST_MAC), () -> "eth0 with the MAC jkvm offered:\n" + guest.log());
        String ping = guest.run("ping -c 3 -W 10 " + HOST_ADDRESS, COMMAND);
        // the first echo request may wait for ARP; every one that went out must come back but that one
        assertTrue(ping.matches("(?s).*3 packets transmitted, [23] packets received.*"), () -> "ping of the host side:\n" + ping);
    }

    /** The ACPI machine: ping, then a transfer each way, the same sha256 on both ends. */
    @Test
    void pingAndTransferBothWays() throws Exception {
        int mib = "1".equals(System.getenv("JKVM_NESTED")) ? NESTED_TRANSFER_MIB : TRANSFER_MIB;
        byte[] data = new byte[mib << 20];
        new Random(11).nextBytes(data);
        Path sent = Files.write(tmp.resolve("to-guest.bin"), data);
        String sum = sha256(data);
        try (GuestSession guest = new GuestSession(machine(GuestArtifacts.vmlinux()))) {
            hostSide();
            guestSide(guest);

            // host -> guest
            guest.type("nc -l -p 5001 -e sh -c 'cat > /tmp/in' &\n");
            long start = System.nanoTime();
            hostClient(sent, "sh", "-c", "until " + busybox() + " nc " + GUEST_ADDRESS + " 5001; do sleep 1; done");
            String guestSum = guest.run("wait; sha256sum /tmp/in", TRANSFER);
            report("host->guest", mib, start);
            assertTrue(guestSum.contains(sum), () -> "guest received what the host sent:\n" + guestSum);

            // guest -> host
            Path received = tmp.resolve("from-guest.bin");
            Process listener = hostListener(received);
            start = System.nanoTime();
            guest.run("until nc " + HOST_ADDRESS + " 5002 < /tmp/in; do sleep 1; done", TRANSFER);
            assertTrue(listener.waitFor(TRANSFER.toMinutes(), TimeUnit.MINUTES), "host nc ended");
            report("guest->host", mib, start);
            assertEquals(sum, sha256(Files.readAllBytes(received)), "host received what the guest sent");

            guest.type("poweroff -f\n");
            assertEquals(RunOutcome.POWEROFF, guest.awaitEnd(COMMAND));
        }
    }

    /** The machine without ACPI (devices on the command line) finds the card too and reaches the host. */
    @Test
    void cmdlineMachinePings() throws Exception {
        MachineConfig config = machine(GuestArtifacts.vmlinux()).withDiscovery(VirtioDiscovery.CMDLINE);
        try (GuestSession guest = new GuestSession(config)) {
            hostSide();
            guestSide(guest);
            guest.type("reboot -f\n");
            assertEquals(RunOutcome.RESET, guest.awaitEnd(COMMAND));
        }
    }

    private String busybox() {
        return GuestArtifacts.busybox().toString();
    }

    /** Runs {@code command} in the test's namespace with stdin from {@code input}; waits for it to succeed. */
    private void hostClient(Path input, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(inNamespace(command)).redirectInput(input.toFile()).redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(TRANSFER.toMinutes(), TimeUnit.MINUTES), "host nc ended");
        assertEquals(0, p.exitValue(), out);
    }

    private Process hostListener(Path output) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(inNamespace(busybox(), "nc", "-l", "-p", "5002", "-e", busybox(), "sh", "-c",
                "cat > " + output)).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
        Thread.sleep(500); // listening before the guest connects (the guest retries anyway)
        return p;
    }

    private List<String> inNamespace(String... command) {
        List<String> all = new java.util.ArrayList<>(List.of("ip", "netns", "exec", namespace));
        all.addAll(List.of(command));
        return all;
    }

    private static void report(String direction, int mib, long startNanos) {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        System.out.printf("NetworkTest: %s %d MiB in %.1f s (%.1f MiB/s)%n", direction, mib, seconds, mib / seconds);
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
