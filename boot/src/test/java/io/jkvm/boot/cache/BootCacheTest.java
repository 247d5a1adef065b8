package io.jkvm.boot.cache;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.boot.loader.BootException;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.snapshot.MachineShape;
import io.jkvm.boot.snapshot.Snapshotter;
import io.jkvm.snapshot.StateFile;
import io.jkvm.snapshot.StateWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the boot cache decides before any VM exists, so without KVM: the kernel here is no kernel, so a run
 * that falls back to booting cold ends at the kernel loader with a {@link BootException}, which shows it did.
 */
class BootCacheTest {
    @TempDir Path tmp;
    private final List<String> log = new CopyOnWriteArrayList<>();
    private MachineConfig config;
    private BootCacheStore store;
    private BootCache cache;

    @BeforeEach
    void cache() throws IOException {
        Path kernel = Files.write(tmp.resolve("not-a-kernel"), new byte[4096]);
        config = MachineConfig.of(kernel, Optional.empty(), 64L << 20, 1).withForcedPvmQuirks(false).withCmdline("console=ttyS0");
        store = BootCacheStore.open(tmp.resolve("cache"), BootCacheStore.DEFAULT_CAPACITY);
        cache = new BootCache(store, Snapshotter.MACHINE, log::add);
    }

    /** The entry directory of this test's machine, holding {@code state} and a memory file of {@code memory} bytes. */
    private Path entry(byte[] state, long memory) throws IOException {
        Path dir = Files.createDirectories(store.root().resolve(BootCacheKey.of(BootCache.commandFromConsole(config)).hex()));
        Files.write(dir.resolve(BootCacheStore.STATE), state);
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve(BootCacheStore.MEMORY).toFile(), "rw")) {
            f.setLength(memory); // sparse
        }
        return dir;
    }

    private void assertRemovedAndBootedCold(Path entry, String why) {
        assertThrows(BootException.class, () -> cache.start(config, "true", b -> {}, null), "the run went on to boot");
        assertEquals(1, log.size(), "one line: " + log);
        assertTrue(log.get(0).contains("does not restore") && log.get(0).contains(why) && log.get(0).contains("booting cold"), log.get(0));
        assertFalse(Files.exists(entry), "the bad entry is gone");
    }

    @Test
    void aCorruptEntryIsRemovedWithOneLineAndTheRunBootsCold() throws IOException {
        assertRemovedAndBootedCold(entry("JUNK".getBytes(), config.memory()), "too short for a jkvm snapshot state");
    }

    @Test
    void aTruncatedMemoryFileIsRemoved() throws IOException {
        StateWriter out = new StateWriter();
        MachineShape.of(BootCache.commandFromConsole(config)).write(out);
        Path state = tmp.resolve("state");
        StateFile.write(state, "test", out.toByteArray());
        assertRemovedAndBootedCold(entry(Files.readAllBytes(state), 4096), "memory file");
    }

    @Test
    void anEntryHoldingAnotherMachineIsRemoved() throws IOException {
        MachineConfig bigger = BootCache.commandFromConsole(config);
        bigger = new MachineConfig(bigger.kernel(), bigger.initrd(), bigger.cmdline(), 128L << 20, 2, bigger.disks(),
                bigger.nets(), bigger.rng(), bigger.discovery(), bigger.forcePvmQuirks(), bigger.vsock());
        StateWriter out = new StateWriter();
        MachineShape.of(bigger).write(out);
        Path state = tmp.resolve("state");
        StateFile.write(state, "test", out.toByteArray());
        assertRemovedAndBootedCold(entry(Files.readAllBytes(state), bigger.memory()), "another machine");
    }

    @Test
    void theCommandIsGivenApartAndMustFitAConsoleLine() {
        assertThrows(IllegalArgumentException.class, () -> cache.start(config.withCmdline("console=ttyS0 -- true"), "true", b -> {}, null));
        assertThrows(IllegalArgumentException.class, () -> cache.start(config, "x".repeat(4000), b -> {}, null));
        assertEquals(List.of(), log);
    }
}
