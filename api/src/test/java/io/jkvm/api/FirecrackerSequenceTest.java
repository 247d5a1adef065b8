package io.jkvm.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jkvm.api.ApiClient.Reply;
import io.jkvm.boot.GuestArtifacts;
import io.jkvm.boot.initramfs.Initramfs;
import io.jkvm.cli.ExitCode;
import io.jkvm.kvm.RunOutcome;
import io.jkvm.kvm.Kvm;
import io.jkvm.testing.KvmTests;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Firecracker's getting-started sequence against jkvm's API over its Unix socket, with a real guest: one
 * boot of Debian's cloud kernel (it has the i8042 and atkbd drivers that Ctrl-Alt-Del needs; jkvm's own
 * kernel has no keyboard) with jkvm's busybox initramfs, whose command prints a numbered tick every second.
 * The one boot serves every check: Running, Paused (the console stops), Resumed (it goes on), the pre-boot
 * resources refused after the start, metrics with exits and device counters, and SendCtrlAltDel ending the VMM with exit code 0.
 */
class FirecrackerSequenceTest {
    private static final Duration BOOT = Duration.ofMinutes(10);
    private static final Duration STEP = Duration.ofMinutes(2);
    private static final String TICKS = "i=0; while true; do i=$((i+1)); echo tick-$i; sleep 1; done";

    @TempDir Path dir;
    private final StringBuilder console = new StringBuilder();

    private void onSerialByte(int b) {
        synchronized (console) {
            console.append((char) (b & 0xff));
            console.notifyAll();
        }
    }

    private int consoleLength() {
        synchronized (console) {
            return console.length();
        }
    }

    /** Waits until {@code text} appears on the console at or after {@code from}; returns where it ends. */
    private int await(String text, int from, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (console) {
            while (true) {
                int at = console.indexOf(text, from);
                if (at >= 0) return at + text.length();
                long left = deadline - System.nanoTime();
                if (left <= 0) fail("no '" + text + "' on the console within " + timeout + ":\n" + console);
                TimeUnit.NANOSECONDS.timedWait(console, left);
            }
        }
    }

    private static void assertNoContent(Reply r) {
        assertEquals(204, r.status(), r.body());
    }

    private static void assertState(ApiClient api, String state) {
        assertEquals(state, api.get("/", ApiTypes.InstanceInfo.class).state());
    }

    @Test
    void gettingStartedPauseResumeAndCtrlAltDel() throws Exception {
        KvmTests.assumeKvm();
        // A stock distribution kernel cannot run user space on PVM (its user-mode SYSCALL lands in kernel code
        // at CPL3: ../shared/platform.md), and jkvm's own kernel has no keyboard driver for Ctrl-Alt-Del yet.
        Assumptions.assumeFalse(Kvm.isPvm(), "Debian's cloud kernel cannot run user space on a PVM host");
        try {
            sequence();
        } catch (Exception | AssertionError e) {
            System.err.println("guest console:\n" + console); // in the test's output file
            throw e;
        }
    }

    private void sequence() throws Exception {
        Path kernel = GuestArtifacts.debianCloudKernel();
        Path initrd = dir.resolve("initramfs.cpio");
        try (OutputStream out = Files.newOutputStream(initrd)) {
            Initramfs.writeBusybox(GuestArtifacts.busybox(), out);
        }
        Path rootfs = Files.write(dir.resolve("rootfs.img"), new byte[1 << 20]);
        VmmController vmm = new VmmController("sequence", this::onSerialByte);
        try (ApiServer server = ApiServer.start(dir.resolve("firecracker.socket"), vmm);
             ApiClient api = new ApiClient(server.socket(), BOOT)) { // InstanceStart is slow under nested KVM
            assertNoContent(api.send("PUT", "/boot-source", "{\"kernel_image_path\": \"" + kernel + "\", \"initrd_path\": \""
                    + initrd + "\", \"boot_args\": \"console=ttyS0 quiet panic=-1 reboot=k -- " + TICKS + "\"}"));
            assertNoContent(api.send("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 256}"));
            assertNoContent(api.send("PUT", "/drives/rootfs", "{\"drive_id\": \"rootfs\", \"path_on_host\": \"" + rootfs
                    + "\", \"is_root_device\": true, \"is_read_only\": true}"));
            assertNoContent(api.send("PUT", "/metrics", "{\"metrics_path\": \"" + dir.resolve("metrics.json") + "\"}"));
            assertState(api, "Not started");
            assertNoContent(api.send("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}"));
            assertState(api, "Running");
            assertEquals(400, api.send("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}").status());
            assertEquals(400, api.send("PUT", "/boot-source", "{\"kernel_image_path\": \"" + kernel + "\"}").status());
            assertEquals(400, api.send("PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 256}").status());
            Reply net = api.send("PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}");
            assertEquals(400, net.status());
            assertEquals(VmmController.NOT_AFTER_START, net.faultMessage());
            Reply vsock = api.send("PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"" + dir.resolve("v.sock") + "\"}");
            assertEquals(400, vsock.status());
            assertEquals(VmmController.NOT_AFTER_START, vsock.faultMessage());

            await(Initramfs.INIT_OK_MARKER, 0, BOOT);
            await("tick-3\r\n", 0, STEP);

            assertNoContent(api.send("PATCH", "/vm", "{\"state\": \"Paused\"}"));
            assertState(api, "Paused");
            assertNoContent(api.send("PATCH", "/vm", "{\"state\": \"Paused\"}")); // pausing twice
            Thread.sleep(1000); // what the guest wrote before the pause leaves the console's buffer
            int paused = consoleLength();
            Thread.sleep(3000);
            synchronized (console) {
                assertEquals(paused, console.length(), () -> "the console went on while paused:\n" + console.substring(paused));
            }

            assertNoContent(api.send("PATCH", "/vm", "{\"state\": \"Resumed\"}"));
            assertState(api, "Running");
            assertNoContent(api.send("PATCH", "/vm", "{\"state\": \"Resumed\"}")); // resuming a running VM
            await("tick-", paused, STEP); // the guest goes on: the next tick comes
            assertEquals(400, api.send("PATCH", "/vm", "{\"state\": \"Stopped\"}").status());

            assertNoContent(api.send("PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}"));
            String metrics = Files.readString(dir.resolve("metrics.json"));
            assertTrue(metrics.matches("(?s)\\{\"utc_timestamp_ms\":\\d+,\"vcpus\":\\[\\{\"exits_total\":[1-9].*\"IO\":[1-9].*\\n"), metrics);
            assertTrue(metrics.matches("(?s).*\"latency_ns\":.*\"IO\":\\{\"count\":[1-9]\\d*,\"p50\":\\d+.*"), metrics);
            // the console's bytes counted by the UART, its exits by device name, the disk's counters (Debian's
            // kernel has virtio-mmio and virtio-blk as modules, which this initramfs does not load: no requests)
            assertTrue(metrics.matches("(?s).*\"device_exits\":\\{.*\"uart\":[1-9].*"), metrics);
            assertTrue(metrics.matches("(?s).*\"devices\":\\{\"uart\":\\{\"tx_bytes\":[1-9]\\d*,.*"), metrics);
            assertTrue(metrics.matches("(?s).*\"virtio-blk@0xd0000000\":\\{\"read_requests\":0,.*"), metrics);
            assertTrue(api.send("GET", "/metrics", null).body().contains("\"virtio-blk@0xd0000000\":{\"read_requests\""));

            assertNoContent(api.send("PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}"));
            RunOutcome outcome = vmm.ended().get(STEP.toSeconds(), TimeUnit.SECONDS);
            assertEquals(RunOutcome.RESET, outcome, () -> "the guest did not reboot itself:\n" + console);
            assertEquals(ExitCode.OK, ExitCode.of(outcome, new PrintWriter(new StringWriter())), "the VMM exits 0");
        }
    }
}
