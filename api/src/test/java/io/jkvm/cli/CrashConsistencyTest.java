package io.jkvm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jkvm.boot.GuestArtifacts;
import io.jkvm.boot.initramfs.CpioWriter;
import io.jkvm.testing.KvmTests;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing acknowledged is lost: jkvm runs as a separate process ({@code io.jkvm.cli.Main run}), its Linux guest
 * writes numbered 512-byte records to a virtio-blk disk, each with {@code dd conv=fsync} (write, then fsync:
 * the block layer's FLUSH, which jkvm serves with fdatasync), and prints {@code DURABLE round n} only after
 * that returns. The host kills jkvm with SIGKILL at a random moment (during boot, or after a random number of
 * records plus a random delay), then checks the image: every record printed as durable, in this round and
 * all earlier ones, is there byte for byte. A second disk, attached {@code readonly}, which the guest also
 * tries to write every round, must stay byte-identical.
 *
 * <p>SIGKILL ends jkvm, not the host kernel: what this proves is that jkvm completes a write or a flush to
 * the guest only after the data reached the host file (pwritev/fdatasync returned), in whatever state a kill
 * leaves the process. Power loss of the host is out of its reach.
 *
 * <p>Each round is one boot, so the guest is the ELF vmlinux through PVH (no self-decompression), 1 vCPU,
 * 128 MiB, a dedicated /init and no virtio-rng. {@code -Djkvm.crash.rounds=N} changes the 20 rounds.
 */
class CrashConsistencyTest {
    private static final int ROUNDS = Integer.getInteger("jkvm.crash.rounds", 20);
    /** Records one round may write: its own region of the disk, so earlier rounds' records stay checkable. */
    private static final int RECORDS_PER_ROUND = 200;
    private static final int SECTOR = 512;
    /** A round that neither reached its kill nor powered off by then failed (boot hang). */
    private static final long ROUND_TIMEOUT_SECONDS = 180;
    private static final Pattern DURABLE = Pattern.compile("DURABLE (\\d+) (\\d+)");

    /** The guest's /init: jkvm's busybox, one disk written record by record, the read-only disk tried. */
    private static final String INIT = """
            #!/bin/sh
            export PATH=/bin
            mount -t proc proc /proc
            mount -t sysfs sysfs /sys
            mount -t devtmpfs devtmpfs /dev
            r=$CRASH_ROUND
            echo CRASH-READY $r
            if dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=fsync 2>/dev/null; then echo RO-WRITE-ACCEPTED; fi
            n=0
            while [ $n -lt %d ]; do
                printf 'jkvm-crash-record round=%%04d n=%%06d\\n' $r $n > /tmp/rec
                dd if=/tmp/rec of=/dev/vda bs=512 count=1 seek=$((r * %d + n)) conv=sync,notrunc,fsync 2>/dev/null \\
                    || { echo WRITE-FAILED $n; break; }
                echo DURABLE $r $n
                n=$((n + 1))
            done
            echo CRASH-ALL-WRITTEN
            poweroff -f
            """.formatted(RECORDS_PER_ROUND, RECORDS_PER_ROUND);

    @TempDir Path tmp;

    @Test
    void everyRecordPrintedAsDurableSurvivesSigkill() throws Exception {
        KvmTests.assumeKvm();
        Path vmlinux = GuestArtifacts.vmlinux();
        Path initramfs = initramfs(GuestArtifacts.busybox());
        Path data = tmp.resolve("data.img");
        try (var f = java.nio.channels.FileChannel.open(data, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            f.truncate(0);
            f.position((long) ROUNDS * RECORDS_PER_ROUND * SECTOR - 1).write(java.nio.ByteBuffer.wrap(new byte[1]));
        }
        Path frozen = tmp.resolve("frozen.img");
        byte[] frozenBytes = new byte[64 * 1024];
        new Random(7).nextBytes(frozenBytes);
        Files.write(frozen, frozenBytes);

        Random random = new Random(Long.getLong("jkvm.crash.seed", System.nanoTime()));
        List<int[]> durable = new ArrayList<>(); // {round, n}
        StringBuilder report = new StringBuilder();
        long start = System.nanoTime();
        for (int round = 0; round < ROUNDS; round++) {
            // Mostly after some records (a kill between write, flush and the printed line), sometimes early.
            int afterRecords = random.nextInt(4) == 0 ? -1 : random.nextInt(15);
            int delayMillis = random.nextInt(afterRecords < 0 ? 6000 : 300);
            Round r = runRound(vmlinux, initramfs, data, frozen, round, afterRecords, delayMillis);
            durable.addAll(r.durable);
            String line = String.format("round %d: kill after %s + %d ms, %d durable records, %.1f s%n", round,
                    afterRecords < 0 ? "start" : afterRecords + 1 + " records", delayMillis, r.durable.size(), r.seconds);
            report.append(line);
            System.out.print("crash test " + line);

            assertFalse(r.console.contains("RO-WRITE-ACCEPTED"), "a write to the read-only disk succeeded:\n" + r.console);
            assertFalse(r.console.contains("WRITE-FAILED"), "a record write failed:\n" + r.console);
            assertArrayEquals(frozenBytes, Files.readAllBytes(frozen), "read-only image changed in round " + round);
            byte[] image = Files.readAllBytes(data);
            for (int[] d : durable) {
                byte[] expected = record(d[0], d[1]);
                int at = (d[0] * RECORDS_PER_ROUND + d[1]) * SECTOR;
                byte[] actual = Arrays.copyOfRange(image, at, at + SECTOR);
                if (!Arrays.equals(expected, actual))
                    fail(String.format("record %d of round %d was printed as durable but the image has %s%n%s%s",
                            d[1], d[0], new String(actual, StandardCharsets.US_ASCII).trim(), report, r.console));
            }
        }
        double total = (System.nanoTime() - start) / 1e9;
        System.out.printf("crash test: %d rounds, %d durable records checked, %.1f s%n%s", ROUNDS, durable.size(), total, report);
        assertTrue(durable.size() > 0, "no round got as far as a durable record:\n" + report);
    }

    private record Round(List<int[]> durable, String console, double seconds) {}

    /** Boots jkvm as a child process, kills it with SIGKILL at the chosen moment, returns what it printed. */
    private Round runRound(Path vmlinux, Path initramfs, Path data, Path frozen, int round, int afterRecords,
                           int delayMillis) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), "io.jkvm.cli.Main", "run",
                "--kernel", vmlinux.toString(), "--initrd", initramfs.toString(), "--memory", "128M", "--cpus", "1",
                "--no-rng", "--disk", data + ",id=data", "--disk", frozen + ",readonly,id=frozen",
                "--cmdline", "console=ttyS0 quiet panic=-1 reboot=k CRASH_ROUND=" + round);
        pb.redirectErrorStream(true);
        long start = System.nanoTime();
        Process jkvm = pb.start();
        jkvm.getOutputStream().close();
        StringBuilder console = new StringBuilder();
        List<int[]> durable = new ArrayList<>();
        Thread killer = null;
        if (afterRecords < 0) killer = killAfter(jkvm, delayMillis);
        Thread watchdog = killAfter(jkvm, (int) TimeUnit.SECONDS.toMillis(ROUND_TIMEOUT_SECONDS));
        int exit;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(jkvm.getInputStream(), StandardCharsets.US_ASCII))) {
            for (String line; (line = out.readLine()) != null; ) {
                console.append(line).append('\n');
                Matcher m = DURABLE.matcher(line);
                if (m.find()) {
                    assertEquals(round, Integer.parseInt(m.group(1)), line);
                    durable.add(new int[] {round, Integer.parseInt(m.group(2))});
                    if (killer == null && durable.size() > afterRecords) killer = killAfter(jkvm, delayMillis);
                }
            }
            exit = jkvm.waitFor(); // the output ended: jkvm was killed or ended by itself
        } finally {
            jkvm.toHandle().destroyForcibly();
            jkvm.waitFor(30, TimeUnit.SECONDS);
            watchdog.interrupt();
            if (killer != null) killer.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (seconds >= ROUND_TIMEOUT_SECONDS)
            fail("round " + round + " did not end within " + ROUND_TIMEOUT_SECONDS + " s:\n" + console);
        boolean killed = exit == 128 + 9;
        if (!killed && !(exit == 0 && console.toString().contains("CRASH-ALL-WRITTEN")))
            fail("jkvm ended by itself, exit " + exit + ", before the guest wrote all records:\n" + console);
        return new Round(durable, console.toString(), seconds);
    }

    /**
     * SIGKILL after {@code millis}: ProcessHandle.destroyForcibly, which only sends the signal (Process.destroy*
     * would also close our end of jkvm's stdout, losing what it printed just before it died).
     */
    private static Thread killAfter(Process process, int millis) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                return; // the round ended first
            }
            process.toHandle().destroyForcibly();
        }, "sigkill");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** What the guest's printf + dd conv=sync put in the record's sector. */
    static byte[] record(int round, int n) {
        byte[] sector = new byte[SECTOR];
        byte[] text = String.format("jkvm-crash-record round=%04d n=%06d%n", round, n).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, sector, 0, text.length);
        return sector;
    }

    /** busybox with the applets /init uses, /dev/console (for init's output before devtmpfs), and /init. */
    private Path initramfs(Path busybox) throws IOException {
        Path cpio = tmp.resolve("crash-initramfs.cpio");
        try (CpioWriter out = new CpioWriter(Files.newOutputStream(cpio))) {
            for (String d : List.of("bin", "dev", "proc", "sys", "tmp")) out.directory(d, 0_755);
            out.characterDevice("dev/console", 0_600, 5, 1);
            out.file("bin/busybox", 0_755, busybox);
            for (String applet : List.of("sh", "mount", "dd", "printf", "echo", "poweroff", "["))
                out.symlink("bin/" + applet, "busybox");
            out.file("init", 0_755, INIT.getBytes(StandardCharsets.US_ASCII));
        }
        return cpio;
    }
}
