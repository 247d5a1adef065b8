package io.jkvm.boot.snapshot;

import io.jkvm.boot.loader.BootConfigException;
import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateFile;
import io.jkvm.snapshot.StateReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A snapshot opened for restore: its state file read and checked ({@link StateFile}), the machine section
 * read ({@link MachineShape}), and a reader positioned at the sections that follow it (VM, vCPUs, devices).
 * {@link #checkHostFiles} then checks what lies outside the state file: the guest memory file and the disks.
 * All of this happens before anything of the new VM is built, so a bad snapshot is one clear error.
 *
 * @param writtenBy the jkvm version that wrote the snapshot
 * @param sections  the rest of the state, for the machine's own sections
 */
public record SavedMachine(String writtenBy, MachineShape shape, StateReader sections) {
    /**
     * @throws SnapshotFormatException the state file is not a jkvm state of this format version, is corrupt,
     *                                 or its machine section is invalid (the message names the file)
     * @throws IOException             the state file cannot be read
     */
    public static SavedMachine read(Path stateFile) throws IOException {
        StateFile.Contents contents = StateFile.read(stateFile);
        StateReader in = new StateReader(contents.body());
        try {
            return new SavedMachine(contents.writtenBy(), MachineShape.read(in), in);
        } catch (SnapshotFormatException e) {
            throw new SnapshotFormatException("snapshot state " + stateFile + " (written by jkvm " + contents.writtenBy() + "): "
                    + e.getMessage());
        }
    }

    /**
     * Checks that {@code memoryFile} holds exactly the machine's RAM (the regions of
     * {@link io.jkvm.boot.Layout#ramRanges} one after the other) and that the disks are as they were.
     *
     * @throws BootConfigException naming the memory file or the disk that does not match
     */
    public void checkHostFiles(Path memoryFile) {
        long memory = shape.config().memory();
        if (!Files.isRegularFile(memoryFile)) throw new BootConfigException("guest memory file " + memoryFile + " is not a file");
        long size;
        try {
            size = Files.size(memoryFile);
        } catch (IOException e) {
            throw new BootConfigException("guest memory file " + memoryFile + " cannot be measured: " + e.getMessage(), e);
        }
        if (size != memory)
            throw new BootConfigException("guest memory file " + memoryFile + " is " + size + " bytes; the machine has " + memory);
        shape.checkDisks();
    }
}
