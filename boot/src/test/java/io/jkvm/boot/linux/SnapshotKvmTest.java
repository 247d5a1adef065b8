package io.jkvm.boot.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.boot.GuestArtifacts;
import io.jkvm.boot.initramfs.Initramfs;
import io.jkvm.boot.machine.DiskSpec;
import io.jkvm.boot.machine.Machine;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.snapshot.SavedMachine;
import io.jkvm.kvm.RunOutcome;
import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.testing.KvmTests;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshot and restore of a real Linux guest through {@link Machine#snapshot} and {@link Machine#restore}:
 * a 4-vCPU guest counting on its console is paused, saved to files and closed; a new machine restored from
 * the files goes on counting from where it was, with every vCPU online and what the guest wrote to its disk
 * before the snapshot readable. A corrupt or mismatched state file is refused before anything runs.
 */
class SnapshotKvmTest {
    private static final Duration BOOT = Duration.ofMinutes(10);
    private static final Duration COMMAND = Duration.ofMinutes(2);
    private static final Pattern COUNT = Pattern.compile("COUNT (\\d+)\\r?\\n");
    private static final String DISK_TEXT = "written-before-the-snapshot";

    @TempDir Path tmp;
    private MachineConfig config;

    @BeforeEach
    void machine() throws Exception {
        KvmTests.assumeKvm();
        Path initramfs = GuestArtifacts.defaultInitramfs(tmp.resolve("initramfs.cpio"), false);
        Path disk = tmp.resolve("disk.img");
        Files.write(disk, new byte[1 << 20]);
        config = MachineConfig.of(GuestArtifacts.bzImage(), Optional.of(initramfs), 256L << 20, 4)
                .withDisks(List.of(DiskSpec.parse(disk.toString())));
    }

    @Test
    void aPausedGuestSavedToFilesGoesOnInANewMachine() throws Exception {
        Path state = tmp.resolve("vm.state"), memory = tmp.resolve("vm.mem");
        String before;
        try (GuestSession guest = new GuestSession(config)) {
            guest.await(Initramfs.INIT_OK_MARKER, BOOT);
            guest.run("echo " + DISK_TEXT + " > /dev/vda; sync", COMMAND);
            guest.type("i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo COUNT $i; sleep 0.2; done &\n");
            guest.await("COUNT 5\r\n", COMMAND);
            guest.machine().pause();
            guest.machine().snapshot(state, memory);
            assertEquals(Machine.State.PAUSED, guest.machine().state(), "a snapshot leaves the machine paused");
            before = guest.log();
        }
        List<Integer> counted = counts(before);
        int last = counted.get(counted.size() - 1);

        try (GuestSession restored = new GuestSession(console ->
                Machine.restore(read(state), config, memory, false, console, null))) {
            restored.await("COUNT " + (last + 2) + "\r\n", COMMAND);
            assertTrue(restored.run("cat /sys/devices/system/cpu/online; nproc", COMMAND).matches("(?s).*0-3\\r?\\n4\\r?\\n.*"),
                    () -> "all four vCPUs online after the restore:\n" + restored.log());
            assertTrue(restored.run("echo 3 > /proc/sys/vm/drop_caches; head -c 27 /dev/vda; echo", COMMAND).contains(DISK_TEXT),
                    () -> "the disk written before the snapshot reads back:\n" + restored.log());
            List<Integer> all = counts(before + restored.log());
            for (int i = 0; i < all.size(); i++)
                assertEquals(i + 1, all.get(i), () -> "the counter goes on from where it was, no step lost or repeated:\n"
                        + before + "\n----- restored -----\n" + restored.log());
            restored.type("poweroff -f\n");
            assertEquals(RunOutcome.POWEROFF, restored.awaitEnd(COMMAND));
        }

        assertRefused(state, memory);
    }

    /** A state file with one byte changed, or restored into a machine of another shape, builds nothing. */
    private void assertRefused(Path state, Path memory) throws IOException {
        Path corrupt = tmp.resolve("corrupt.state");
        byte[] bytes = Files.readAllBytes(state);
        bytes[bytes.length / 2] ^= 0x40;
        Files.write(corrupt, bytes);
        assertThrows(SnapshotFormatException.class, () -> SavedMachine.read(corrupt));

        MachineConfig twoCpus = new MachineConfig(config.kernel(), config.initrd(), config.cmdline(), config.memory(), 2,
                config.disks(), config.nets(), config.rng(), config.discovery(), config.forcePvmQuirks(), config.vsock());
        var e = assertThrows(SnapshotFormatException.class,
                () -> Machine.restore(read(state), twoCpus, memory, false, b -> {}, null).close());
        assertTrue(e.getMessage().contains("vcpu2"), e.getMessage());
    }

    private static SavedMachine read(Path state) {
        try {
            return SavedMachine.read(state);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The counter values the guest printed, in console order (the shell's echo of a typed line has none). */
    private static List<Integer> counts(String console) {
        List<Integer> counts = new ArrayList<>();
        Matcher m = COUNT.matcher(console);
        while (m.find()) counts.add(Integer.parseInt(m.group(1)));
        return counts;
    }
}
