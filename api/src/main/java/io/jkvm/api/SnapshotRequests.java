package io.jkvm.api;

import io.jkvm.api.ApiTypes.MemoryBackend;
import io.jkvm.api.ApiTypes.NetworkOverride;
import io.jkvm.api.ApiTypes.SnapshotCreateParams;
import io.jkvm.api.ApiTypes.SnapshotLoadParams;
import io.jkvm.boot.snapshot.RestoreOverrides;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The bodies of {@code PUT /snapshot/create} and {@code PUT /snapshot/load} (Firecracker's
 * SnapshotCreateParams and SnapshotLoadParams), checked whole before anything is done: jkvm takes Full
 * snapshots into files and loads them from files, without dirty-page tracking.
 */
final class SnapshotRequests {
    private SnapshotRequests() {}

    /** Where a snapshot goes: the VM state file and the guest memory file, two different files. */
    record Create(Path state, Path memory) {}

    /** What to load, with which host ends, and whether the VM runs after. */
    record Load(Path state, Path memory, RestoreOverrides overrides, boolean resume) {}

    static Create create(SnapshotCreateParams body) {
        if (body.snapshotType() != null && !body.snapshotType().equals("Full")) {
            if (body.snapshotType().equals("Diff"))
                throw new ApiFault("snapshot_type: Diff snapshots are not supported by jkvm (it does not track dirty pages); use Full.");
            throw new ApiFault("snapshot_type must be Full, not '" + body.snapshotType() + "'.");
        }
        Path state = newFile("snapshot_path", body.snapshotPath());
        Path memory = newFile("mem_file_path", body.memFilePath());
        if (state.toAbsolutePath().normalize().equals(memory.toAbsolutePath().normalize()))
            throw new ApiFault("snapshot_path and mem_file_path are the same file: " + state + ".");
        return new Create(state, memory);
    }

    static Load load(SnapshotLoadParams body) {
        if (Boolean.TRUE.equals(body.enableDiffSnapshots()) || Boolean.TRUE.equals(body.trackDirtyPages()))
            throw new ApiFault("enable_diff_snapshots, track_dirty_pages: jkvm does not track dirty pages.");
        VmResources.requireFile("snapshot_path", body.snapshotPath());
        String memory = memoryFile(body.memBackend(), body.memFilePath());
        Map<String, String> taps = new HashMap<>();
        if (body.networkOverrides() != null) {
            for (NetworkOverride o : body.networkOverrides()) {
                if (o == null || o.ifaceId() == null || o.hostDevName() == null)
                    throw new ApiFault("network_overrides: each needs iface_id and host_dev_name.");
                if (taps.put(o.ifaceId(), o.hostDevName()) != null)
                    throw new ApiFault("network_overrides: iface_id " + o.ifaceId() + " is given twice.");
            }
        }
        return new Load(Path.of(body.snapshotPath()), Path.of(memory), new RestoreOverrides(taps, Optional.empty()),
                Boolean.TRUE.equals(body.resumeVm()));
    }

    /** The path of the memory file: mem_backend of type File, or the deprecated mem_file_path, not both. */
    private static String memoryFile(MemoryBackend backend, String deprecatedPath) {
        if ((backend == null) == (deprecatedPath == null))
            throw new ApiFault("Exactly one of mem_backend and mem_file_path is required.");
        if (deprecatedPath != null) {
            VmResources.requireFile("mem_file_path", deprecatedPath);
            return deprecatedPath;
        }
        if (!"File".equals(backend.backendType()))
            throw new ApiFault("mem_backend.backend_type must be File (jkvm has no userfaultfd backend), not '" + backend.backendType() + "'.");
        VmResources.requireFile("mem_backend.backend_path", backend.backendPath());
        return backend.backendPath();
    }

    /** A file to be written: a path whose directory exists, and not a directory itself. */
    private static Path newFile(String field, String path) {
        if (path == null) throw new ApiFault(field + " is required.");
        if (path.isEmpty() || path.indexOf('\0') >= 0) throw new ApiFault(field + " is not a path: '" + path + "'.");
        Path p = Path.of(path);
        Path dir = p.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) throw new ApiFault(field + ": the directory of " + path + " does not exist.");
        if (Files.isDirectory(p)) throw new ApiFault(field + ": " + path + " is a directory.");
        return p;
    }
}
