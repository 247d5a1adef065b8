package io.jkvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jkvm.boot.GuestArtifacts;
import io.jkvm.testing.KvmTests;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshot and restore across VMM processes, through the CLI: {@code jkvm run} boots a 2-vCPU guest that counts
 * on its console (a child process), {@code jkvm snapshot ID} pauses it and saves it through its API, the first
 * VMM is killed, and {@code jkvm run --restore} in a new process goes on counting from where it stopped, both
 * vCPUs online. The two consoles together show every count once, in order.
 */
class SnapshotRoundTripTest {
    private static final long BOOT_SECONDS = 600, STEP_SECONDS = 120;
    private static final Pattern COUNT = Pattern.compile("COUNT (\\d+) (\\S+)\\r?\\n");
    private static final String COUNTER = "i=0; while true; do i=$((i+1)); echo COUNT $i $(cat /sys/devices/system/cpu/online);"
            + " sleep 0.2; done";

    @TempDir Path dir;

    @Test
    void aVmSnapshottedThroughItsApiGoesOnInANewVmmProcess() throws Exception {
        KvmTests.assumeKvm();
        Path initramfs = GuestArtifacts.defaultInitramfs(dir.resolve("initramfs.cpio"), false);
        Path state = dir.resolve("vm.state"), memory = dir.resolve("vm.mem");
        String id = "snap-" + ProcessHandle.current().pid();

        Console first = Console.of(jkvm("run", "--kernel", GuestArtifacts.bzImage().toString(), "--initrd",
                initramfs.toString(), "--cpus", "2", "--memory", "256M", "--no-rng", "--id", id,
                "--cmdline", "console=ttyS0 quiet panic=-1 reboot=k -- " + COUNTER));
        try {
            first.await("COUNT 5 ", BOOT_SECONDS);
            StringWriter out = new StringWriter(), err = new StringWriter();
            int status = Main.execute(new String[] {"snapshot", id, "--state", state.toString(), "--memory", memory.toString()},
                    new PrintWriter(out, true), new PrintWriter(err, true));
            assertEquals(0, status, () -> "jkvm snapshot: " + out + err);
        } finally {
            first.kill();
        }

        Console restored = Console.of(jkvm("run", "--restore", state.toString(), "--memory-file", memory.toString(),
                "--id", id + "-restored"));
        try {
            int last = counts(first.text()).stream().mapToInt(c -> c).max().orElseThrow();
            restored.await("COUNT " + (last + 3) + " ", STEP_SECONDS);
        } finally {
            restored.kill();
        }
        String both = first.text() + restored.text();
        Matcher m = COUNT.matcher(both);
        for (int expected = 1; m.find(); expected++) {
            assertEquals(expected, Integer.parseInt(m.group(1)), "every count once, in order, across the restore:\n" + both);
            assertEquals("0-1", m.group(2), "both vCPUs online:\n" + both);
        }
    }

    private static List<Integer> counts(String console) {
        List<Integer> counts = new ArrayList<>();
        Matcher m = COUNT.matcher(console);
        while (m.find()) counts.add(Integer.parseInt(m.group(1)));
        return counts;
    }

    private static Process jkvm(String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), "io.jkvm.cli.Main"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        Process p = pb.start();
        p.getOutputStream().close();
        return p;
    }

    /** Everything a jkvm process prints, byte for byte, as it comes. */
    private static final class Console {
        private final Process process;
        private final StringBuilder text = new StringBuilder();
        private final Thread reader = new Thread(this::read, "jkvm-output");

        private Console(Process process) {
            this.process = process;
        }

        static Console of(Process process) {
            Console c = new Console(process);
            c.reader.setDaemon(true);
            c.reader.start();
            return c;
        }

        private void read() {
            try (InputStream in = process.getInputStream()) {
                for (int b; (b = in.read()) >= 0; ) {
                    synchronized (text) {
                        text.append((char) b);
                        text.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        }

        String text() {
            synchronized (text) {
                return text.toString();
            }
        }

        void await(String what, long seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            synchronized (text) {
                while (text.indexOf(what) < 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || !reader.isAlive())
                        fail("no '" + what + "' from jkvm within " + seconds + " s" + (reader.isAlive() ? "" : " (it ended)")
                                + ":\n" + text);
                    TimeUnit.NANOSECONDS.timedWait(text, Math.min(left, TimeUnit.SECONDS.toNanos(1)));
                }
            }
        }

        /** SIGKILL, as a crashed or killed VMM; the snapshot files are all that is left of it. */
        void kill() throws InterruptedException {
            process.toHandle().destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
