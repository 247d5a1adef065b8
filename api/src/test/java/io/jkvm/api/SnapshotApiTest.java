package io.jkvm.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.api.ApiClient.Reply;
import io.jkvm.boot.machine.DiskSpec;
import io.jkvm.boot.machine.Machine;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.machine.NetSpec;
import io.jkvm.boot.snapshot.MachineShape;
import io.jkvm.boot.snapshot.SavedMachine;
import io.jkvm.boot.snapshot.Snapshotter;
import io.jkvm.snapshot.StateFile;
import io.jkvm.snapshot.StateWriter;
import java.io.ByteArrayOutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PUT /snapshot/create and /snapshot/load without KVM: every body and state check, and that a load which
 * passes them reaches the {@link Snapshotter} with the saved machine, its overrides applied. Nothing claims
 * success while the snapshotter cannot restore.
 */
class SnapshotApiTest {
    private static final long MEMORY = 128L << 20;
    @TempDir Path dir;
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final RecordingSnapshotter recording = new RecordingSnapshotter();
    private ApiServer server;
    private ApiClient client;

    @BeforeEach
    void serve() {
        server = ApiServer.start(dir.resolve("api.sock"), new VmmController("snap-vm", console::write, recording));
        client = new ApiClient(server.socket());
    }

    @AfterEach
    void close() {
        client.close();
        server.close();
    }

    /** Records what restore was given, then refuses: no machine is built in these tests. */
    private static final class RecordingSnapshotter implements Snapshotter {
        MachineConfig config;
        boolean startPaused;

        @Override
        public void snapshot(Machine machine, Path stateFile, Path memoryFile) {
            throw new AssertionError("no machine runs here");
        }

        @Override
        public Machine restore(SavedMachine saved, MachineConfig config, Path memoryFile, boolean startPaused,
                               IntConsumer serialOut, Consumer<String> exitTrace) {
            this.config = config;
            this.startPaused = startPaused;
            throw new UnsupportedOperationException("recorded");
        }
    }

    private void assertFault(Reply r, String expected) {
        assertEquals(400, r.status(), r.body());
        assertTrue(r.faultMessage().contains(expected), "expected '" + expected + "' in: " + r.faultMessage());
        assertFalse(r.faultMessage().contains("\n"), "one line: " + r.faultMessage());
    }

    private Reply put(String path, String body) {
        return client.send("PUT", path, body);
    }

    /** A state file of a machine with one 4 KiB disk and a network interface, and a memory file of its size. */
    private Path[] snapshot() throws Exception {
        Path disk = Files.write(dir.resolve("disk.img"), new byte[4096]);
        MachineConfig config = MachineConfig.of(Path.of("/vmlinux"), Optional.empty(), MEMORY, 1)
                .withDisks(List.of(DiskSpec.parse(disk.toString())))
                .withNets(List.of(NetSpec.parse("tap=tap0,id=eth0")));
        StateWriter out = new StateWriter();
        MachineShape.of(config).write(out);
        Path state = dir.resolve("vm.state");
        StateFile.write(state, "test", out.toByteArray());
        Path memory = dir.resolve("vm.mem");
        try (RandomAccessFile f = new RandomAccessFile(memory.toFile(), "rw")) {
            f.setLength(MEMORY); // sparse
        }
        return new Path[] {state, memory, disk};
    }

    private static String load(Path state, Path memory, String extra) {
        return "{\"snapshot_path\": \"" + state + "\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \""
                + memory + "\"}" + extra + "}";
    }

    @Test
    void createChecksItsBodyThenThatAMachineRuns() {
        String state = dir.resolve("s").toString(), mem = dir.resolve("m").toString();
        assertFault(put("/snapshot/create", "{\"snapshot_path\": \"" + state + "\", \"mem_file_path\": \"" + mem
                + "\", \"snapshot_type\": \"Diff\"}"), "Diff snapshots are not supported");
        assertFault(put("/snapshot/create", "{\"snapshot_path\": \"" + state + "\", \"mem_file_path\": \"" + mem
                + "\", \"snapshot_type\": \"Half\"}"), "snapshot_type must be Full");
        assertFault(put("/snapshot/create", "{\"snapshot_path\": \"" + state + "\"}"), "mem_file_path");
        assertFault(put("/snapshot/create", "{\"snapshot_path\": \"" + state + "\", \"mem_file_path\": [\"m\"]}"), "mem_file_path");
        assertFault(put("/snapshot/create", "{\"snapshot_path\": \"" + state + "\", \"mem_file_path\": \"" + mem
                + "\", \"version\": \"1.0\"}"), "version");
        assertFault(put("/snapshot/create", "{\"snapshot_path\": \"/no/such/dir/s\", \"mem_file_path\": \"" + mem + "\"}"),
                "snapshot_path: the directory of /no/such/dir/s does not exist");
        assertFault(put("/snapshot/create", "{\"snapshot_path\": \"" + state + "\", \"mem_file_path\": \"" + state + "\"}"),
                "are the same file");
        assertFault(put("/snapshot/create", "{\"snapshot_path\": \"" + state + "\", \"mem_file_path\": \"" + mem
                + "\", \"snapshot_type\": \"Full\"}"), VmmController.NOT_BEFORE_START);
        assertFault(put("/snapshot/other", "{}"), "Invalid request method and/or path");
    }

    @Test
    void loadChecksItsBody() throws Exception {
        Path[] files = snapshot();
        String state = files[0].toString();
        assertFault(put("/snapshot/load", "{\"snapshot_path\": \"" + state + "\"}"), "Exactly one of mem_backend and mem_file_path");
        assertFault(put("/snapshot/load", "{\"snapshot_path\": \"" + state + "\", \"mem_file_path\": \"" + files[1]
                + "\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"" + files[1] + "\"}}"), "Exactly one");
        assertFault(put("/snapshot/load", "{\"snapshot_path\": \"" + state + "\", \"mem_backend\": {\"backend_type\": \"Uffd\","
                + " \"backend_path\": \"" + files[1] + "\"}}"), "backend_type must be File");
        assertFault(put("/snapshot/load", load(files[0], files[1], ", \"resume_vm\": \"yes\"")), "resume_vm");
        assertFault(put("/snapshot/load", load(files[0], files[1], ", \"colour\": 1")), "colour");
        assertFault(put("/snapshot/load", load(files[0], files[1], ", \"enable_diff_snapshots\": true")), "dirty pages");
        assertFault(put("/snapshot/load", load(dir.resolve("missing"), files[1], "")), "snapshot_path: " + dir.resolve("missing") + " is not a readable file");
        assertFault(put("/snapshot/load", load(files[0], dir.resolve("missing"), "")), "mem_backend.backend_path");
        assertEquals(200, client.send("GET", "/", null).status());
        assertTrue(client.send("GET", "/", null).body().contains("Not started"));
    }

    @Test
    void loadChecksTheFilesBeforeBuildingAnything() throws Exception {
        Path[] files = snapshot();
        Path junk = Files.write(dir.resolve("junk.state"), new byte[100]);
        assertFault(put("/snapshot/load", load(junk, files[1], "")), "is not a jkvm snapshot state file");
        Path small = Files.write(dir.resolve("small.mem"), new byte[4096]);
        assertFault(put("/snapshot/load", load(files[0], small, "")), "guest memory file " + small + " is 4096 bytes; the machine has " + MEMORY);
        Files.write(files[2], new byte[8192]);
        assertFault(put("/snapshot/load", load(files[0], files[1], "")), "disk " + files[2] + " was 4096 bytes at snapshot, is 8192 now");
        Files.write(files[2], new byte[4096]);
        assertFault(put("/snapshot/load", load(files[0], files[1],
                ", \"network_overrides\": [{\"iface_id\": \"eth9\", \"host_dev_name\": \"tap9\"}]")), "no network interface eth9");
        assertEquals(null, recording.config, "the snapshotter was not reached");
    }

    @Test
    void aGoodLoadReachesTheSnapshotterWithItsOverridesAndClaimsNothingElse() throws Exception {
        Path[] files = snapshot();
        assertFault(put("/snapshot/load", load(files[0], files[1],
                ", \"resume_vm\": true, \"network_overrides\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap7\"}]")),
                "Cannot load the snapshot: recorded");
        assertEquals("tap7", recording.config.nets().get(0).tap());
        assertEquals(MEMORY, recording.config.memory());
        assertFalse(recording.startPaused, "resume_vm: true");
        assertFault(put("/snapshot/load", load(files[0], files[1], "")), "recorded");
        assertTrue(recording.startPaused, "without resume_vm the VM stays paused");
        assertTrue(client.send("GET", "/", null).body().contains("Not started"));
    }

    @Test
    void loadIsRefusedAfterBootConfiguration() throws Exception {
        Path[] files = snapshot();
        assertEquals(204, put("/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 128}").status());
        assertFault(put("/snapshot/load", load(files[0], files[1], "")), "not allowed after configuring boot-specific resources");
    }
}
