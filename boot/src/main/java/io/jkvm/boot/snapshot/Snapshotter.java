package io.jkvm.boot.snapshot;

import io.jkvm.boot.machine.Machine;
import io.jkvm.boot.machine.MachineConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * Takes and restores snapshots of machines: the seam between the control plane (the API's
 * {@code PUT /snapshot/create} and {@code /snapshot/load}, {@code jkvm snapshot}, {@code jkvm run --restore})
 * and the machine, which alone knows its vCPU, VM and device state ({@link #MACHINE}); tests of the control
 * plane put a recording one in its place.
 */
public interface Snapshotter {
    /**
     * Writes the state of the paused {@code machine} to {@code stateFile} ({@link io.jkvm.snapshot.StateFile}:
     * the {@link MachineShape} section first, then the machine's own sections) and its guest RAM to
     * {@code memoryFile}. The machine stays paused.
     *
     * @throws IllegalStateException the machine is not paused
     * @throws IOException           a file cannot be written (the message names it)
     */
    void snapshot(Machine machine, Path stateFile, Path memoryFile) throws IOException;

    /**
     * Builds the machine {@code config} describes ({@code saved.shape().toMachineConfig(overrides)}: the saved
     * machine with the host ends a load replaces; no kernel is loaded), its RAM from {@code memoryFile} and its
     * state from {@code saved.sections()}; the caller has checked the host files
     * ({@link SavedMachine#checkHostFiles}). The machine is not started: its {@link Machine#run} starts
     * it paused if {@code startPaused} (to be resumed with {@link Machine#resume}), else running.
     *
     * @throws io.jkvm.snapshot.SnapshotFormatException a section is invalid; nothing of the machine is left
     * @throws IOException the memory file cannot be read
     */
    Machine restore(SavedMachine saved, MachineConfig config, Path memoryFile, boolean startPaused,
                    IntConsumer serialOut, Consumer<String> exitTrace) throws IOException;

    /** Snapshots through the machine itself: {@link Machine#snapshot} and {@link Machine#restore}. */
    Snapshotter MACHINE = new Snapshotter() {
        @Override
        public void snapshot(Machine machine, Path stateFile, Path memoryFile) throws IOException {
            machine.snapshot(stateFile, memoryFile);
        }

        @Override
        public Machine restore(SavedMachine saved, MachineConfig config, Path memoryFile, boolean startPaused,
                               IntConsumer serialOut, Consumer<String> exitTrace) {
            return Machine.restore(saved, config, memoryFile, startPaused, serialOut, exitTrace);
        }
    };
}
