package io.jkvm.api;

import io.jkvm.api.ApiTypes.BootSource;
import io.jkvm.api.ApiTypes.Drive;
import io.jkvm.api.ApiTypes.MachineConfiguration;
import io.jkvm.boot.machine.DiskSpec;
import io.jkvm.boot.machine.KernelCmdline;
import io.jkvm.boot.machine.MachineConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The pre-boot configuration the API collects (Firecracker's VmResources): boot source, machine
 * configuration, drives. Each setter checks its whole body first and changes nothing when it refuses it,
 * so a refused request never leaves a half-applied configuration. Not thread-safe: the controller
 * serializes requests.
 */
final class VmResources {
    /** Firecracker's vCPU limit; jkvm's own ({@link MachineConfig#MAX_CPUS}) is higher. */
    static final int MAX_VCPUS = 32;

    private BootSource bootSource;
    private MachineConfiguration machineConfig = MachineConfiguration.DEFAULT;
    private final Map<String, Drive> drives = new LinkedHashMap<>();

    void setBootSource(BootSource source) {
        requireFile("kernel_image_path", source.kernelImagePath());
        if (source.initrdPath() != null) requireFile("initrd_path", source.initrdPath());
        bootSource = source;
    }

    void setMachineConfig(MachineConfiguration config) {
        if (config.vcpuCount() < 1 || config.vcpuCount() > MAX_VCPUS)
            throw new ApiFault("vcpu_count must be 1 to " + MAX_VCPUS + ", not " + config.vcpuCount() + ".");
        if (config.memSizeMib() < 1) throw new ApiFault("mem_size_mib must be at least 1, not " + config.memSizeMib() + ".");
        if (Boolean.TRUE.equals(config.smt())) throw new ApiFault("smt: jkvm gives each vCPU a core of its own; SMT is not supported.");
        if (Boolean.TRUE.equals(config.trackDirtyPages()))
            throw new ApiFault("track_dirty_pages: jkvm has no snapshots yet, so no dirty-page tracking.");
        requireNoneOrAbsent("cpu_template", config.cpuTemplate());
        requireNoneOrAbsent("huge_pages", config.hugePages());
        machineConfig = new MachineConfiguration(config.vcpuCount(), config.memSizeMib(),
                Boolean.TRUE.equals(config.smt()), Boolean.TRUE.equals(config.trackDirtyPages()), null, null);
    }

    MachineConfiguration machineConfig() {
        return machineConfig;
    }

    /** Creates or replaces the drive {@code pathId}; at most one is the root device. */
    void putDrive(String pathId, Drive drive) {
        if (!pathId.equals(drive.driveId())) throw new ApiFault("The id from the path does not match the id from the body!");
        if (drive.socket() != null) throw new ApiFault("socket: vhost-user block devices are not supported.");
        if (drive.rateLimiter() != null) throw new ApiFault("rate_limiter: jkvm has no rate limiters.");
        if (drive.ioEngine() != null && !drive.ioEngine().equals("Sync"))
            throw new ApiFault("io_engine must be Sync (jkvm does one preadv/pwritev per request), not '" + drive.ioEngine() + "'.");
        if (drive.cacheType() != null && !List.of("Unsafe", "Writeback").contains(drive.cacheType()))
            throw new ApiFault("cache_type must be Unsafe or Writeback, not '" + drive.cacheType() + "'.");
        if (drive.isReadOnly() == null) throw new ApiFault("is_read_only is required for a virtio-block drive.");
        requireFile("path_on_host", drive.pathOnHost());
        diskSpec(drive); // the id must do as a virtio-blk serial
        if (drive.isRootDevice()) {
            for (Drive other : drives.values())
                if (other.isRootDevice() && !other.driveId().equals(drive.driveId()))
                    throw new ApiFault("A root block device already exists: " + other.driveId() + ".");
        }
        drives.put(pathId, drive);
    }

    /**
     * The machine this configuration describes: the root drive first (so it is /dev/vda), the others in
     * the order they were put, and {@code root=} on the kernel command line as Firecracker adds it.
     */
    MachineConfig toMachineConfig() {
        if (bootSource == null) throw new ApiFault("Cannot start microvm without kernel configuration.");
        List<Drive> ordered = new ArrayList<>();
        drives.values().stream().filter(Drive::isRootDevice).forEach(ordered::add);
        drives.values().stream().filter(d -> !d.isRootDevice()).forEach(ordered::add);
        String args = bootSource.bootArgs() == null ? MachineConfig.DEFAULT_CMDLINE : bootSource.bootArgs();
        Optional<Drive> root = ordered.stream().filter(Drive::isRootDevice).findFirst();
        if (root.isPresent()) {
            Drive r = root.get();
            String device = r.partuuid() == null ? "/dev/vda" : "PARTUUID=" + r.partuuid();
            args = KernelCmdline.compose(args, List.of("root=" + device, r.isReadOnly() ? "ro" : "rw"));
        }
        return MachineConfig.of(Path.of(bootSource.kernelImagePath()),
                        Optional.ofNullable(bootSource.initrdPath()).map(Path::of),
                        (long) machineConfig.memSizeMib() << 20, machineConfig.vcpuCount())
                .withCmdline(args)
                .withDisks(ordered.stream().map(VmResources::diskSpec).toList());
    }

    private static DiskSpec diskSpec(Drive drive) {
        try {
            return new DiskSpec(Path.of(drive.pathOnHost()), drive.isReadOnly(), Optional.of(drive.driveId()));
        } catch (IllegalArgumentException e) {
            throw new ApiFault("drive_id: " + e.getMessage() + " (jkvm gives it to the guest as the disk's serial).");
        }
    }

    private static void requireFile(String field, String path) {
        if (path == null) throw new ApiFault(field + " is required.");
        if (path.isEmpty() || path.indexOf('\0') >= 0) throw new ApiFault(field + " is not a path: '" + path + "'.");
        Path p = Path.of(path);
        if (!Files.isRegularFile(p) || !Files.isReadable(p))
            throw new ApiFault(field + ": " + path + " is not a readable file.");
    }

    private static void requireNoneOrAbsent(String field, String value) {
        if (value != null && !value.equals("None")) throw new ApiFault(field + " must be None in jkvm, not '" + value + "'.");
    }
}
