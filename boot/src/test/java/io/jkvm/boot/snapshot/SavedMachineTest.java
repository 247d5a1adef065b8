package io.jkvm.boot.snapshot;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.boot.loader.BootConfigException;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateFile;
import io.jkvm.snapshot.StateWriter;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SavedMachineTest {
    private static final long MEMORY = 64L << 20;
    @TempDir Path dir;

    private Path memoryFile(long size) throws Exception {
        Path p = dir.resolve("vm.mem");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }

    @Test
    void readsTheMachineAndLeavesTheOtherSections() throws Exception {
        MachineShape shape = MachineShape.of(MachineConfig.of(Path.of("/vmlinux"), Optional.empty(), MEMORY, 1));
        StateWriter out = new StateWriter();
        shape.write(out);
        out.u32(0xfeed);
        Path state = dir.resolve("vm.state");
        StateFile.write(state, "1.2.3", out.toByteArray());

        SavedMachine saved = SavedMachine.read(state);
        assertEquals("1.2.3", saved.writtenBy());
        assertEquals(shape, saved.shape());
        assertEquals(0xfeed, saved.sections().u32());
        saved.checkHostFiles(memoryFile(MEMORY));
        BootConfigException e = assertThrows(BootConfigException.class, () -> saved.checkHostFiles(memoryFile(MEMORY - 4096)));
        assertTrue(e.getMessage().contains("is " + (MEMORY - 4096) + " bytes; the machine has " + MEMORY), e.getMessage());
    }

    @Test
    void aBadMachineSectionNamesTheFileAndItsWriter() throws Exception {
        Path state = dir.resolve("vm.state");
        StateFile.write(state, "0.9", new StateWriter().string("vcpu0").u32(0).toByteArray());
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> SavedMachine.read(state));
        assertEquals("snapshot state " + state + " (written by jkvm 0.9): expected the state of machine, found vcpu0", e.getMessage());
    }
}
