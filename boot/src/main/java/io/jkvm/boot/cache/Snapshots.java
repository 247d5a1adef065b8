package io.jkvm.boot.cache;

import io.jkvm.boot.machine.Machine;
import io.jkvm.boot.machine.MachineConfig;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * The seam to the machine's snapshot and restore (Machine.snapshot and Machine.restore, being added to main):
 * the only place the boot cache touches them.
 */
final class Snapshots {
    private Snapshots() {}

    /** Saves the paused {@code machine} into {@code entry}'s files. */
    static void save(Machine machine, BootCacheStore.Pending entry) {
        throw new UnsupportedOperationException("Machine.snapshot is not on main yet");
    }

    /** A machine restored from {@code entry} for {@code config}, not run yet. */
    static Machine restore(MachineConfig config, BootCacheStore.Entry entry, IntConsumer serialOut, Consumer<String> exitTrace) {
        throw new UnsupportedOperationException("Machine.restore is not on main yet");
    }
}
