package io.jkvm.boot.cache;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.boot.GuestArtifacts;
import io.jkvm.boot.initramfs.Initramfs;
import io.jkvm.boot.machine.Machine;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.snapshot.Snapshotter;
import io.jkvm.kvm.RunOutcome;
import io.jkvm.testing.KvmTests;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jkvm's kernel and initramfs through the boot cache: the first run boots and fills the cache, the second
 * restores (its console shows nothing of a boot) and runs another command, with the guest's clock set from
 * the host's; a corrupt entry is removed and the run after it boots cold again.
 */
class BootCacheKvmTest {
    /** How far the guest's {@code date +%s} may be from the host's time around the run (the clock is set in whole seconds). */
    private static final long CLOCK_SLACK_SECONDS = 3;
    private static final Pattern GUEST_TIME = Pattern.compile("guest-time=(\\d+)");

    @TempDir Path tmp;
    private final List<String> log = new CopyOnWriteArrayList<>();

    private record Run(boolean restored, RunOutcome outcome, String console, long hostBefore, long hostAfter) {
        long guestTime() {
            Matcher m = GUEST_TIME.matcher(console);
            assertTrue(m.find(), "no guest time on the console:\n" + console);
            return Long.parseLong(m.group(1));
        }
    }

    private Run run(BootCache cache, MachineConfig config, String command) throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        long before = System.currentTimeMillis() / 1000;
        BootCache.Start start = cache.start(config, command, b -> {
            synchronized (console) {
                console.write(b);
            }
        }, null);
        RunOutcome outcome;
        try (Machine machine = start.machine()) {
            outcome = machine.run();
            start.awaitCacheWritten();
        }
        long after = (System.currentTimeMillis() + 999) / 1000;
        synchronized (console) {
            return new Run(start.restored(), outcome, console.toString(StandardCharsets.UTF_8), before, after);
        }
    }

    private static void assertClockSet(Run run) {
        long guest = run.guestTime();
        assertTrue(guest >= run.hostBefore() - CLOCK_SLACK_SECONDS && guest <= run.hostAfter() + CLOCK_SLACK_SECONDS,
                "guest time " + guest + " outside the run's " + run.hostBefore() + ".." + run.hostAfter());
    }

    @Test
    void theSecondRunRestoresAndRunsItsOwnCommandAtTheHostsTime() throws Exception {
        KvmTests.assumeKvm();
        Path initramfs = GuestArtifacts.defaultInitramfs(tmp.resolve("initramfs.cpio"), false);
        MachineConfig config = MachineConfig.of(GuestArtifacts.vmlinux(), Optional.of(initramfs), 256L << 20, 1);
        BootCacheStore store = BootCacheStore.open(tmp.resolve("cache"), BootCacheStore.DEFAULT_CAPACITY);
        BootCache cache = new BootCache(store, Snapshotter.MACHINE, log::add);

        Run cold = run(cache, config, "echo $((6*7)); echo guest-time=$(date +%s)");
        assertFalse(cold.restored(), "an empty cache boots");
        assertInstanceOf(RunOutcome.Poweroff.class, cold.outcome(), cold.console());
        assertTrue(cold.console().contains(Initramfs.READY_MARKER) && cold.console().contains("42\r\n")
                && cold.console().contains(Initramfs.EXIT_MARKER_PREFIX + "0"), cold.console());
        assertClockSet(cold);
        assertEquals(1, store.keys().size(), "the boot left an entry; log: " + log);

        Run warm = run(cache, config, "echo $((7*8)); echo guest-time=$(date +%s)");
        assertTrue(warm.restored(), "the same inputs restore; log: " + log);
        assertInstanceOf(RunOutcome.Poweroff.class, warm.outcome(), warm.console());
        assertTrue(warm.console().contains("56\r\n") && warm.console().contains(Initramfs.EXIT_MARKER_PREFIX + "0"), warm.console());
        assertFalse(warm.console().contains(Initramfs.INIT_OK_MARKER), "a restored guest does not boot:\n" + warm.console());
        assertClockSet(warm);

        BootCacheStore.Entry entry = store.lookup(store.keys().get(0)).orElseThrow();
        Files.write(entry.state(), new byte[] {'J', 'U', 'N', 'K'});
        Run rebuilt = run(cache, config, "echo guest-time=$(date +%s)");
        assertFalse(rebuilt.restored(), "a corrupt entry is not restored");
        assertTrue(log.stream().anyMatch(l -> l.contains("does not restore")), "one line says so: " + log);
        assertInstanceOf(RunOutcome.Poweroff.class, rebuilt.outcome(), rebuilt.console());
        assertTrue(store.lookup(store.keys().get(0)).map(e -> e.state().toFile().length() > 4).orElse(false),
                "the cold boot wrote the entry again");
    }
}
