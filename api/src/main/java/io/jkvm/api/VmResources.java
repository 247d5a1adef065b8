package io.jkvm.api;

import io.jkvm.api.ApiTypes.BootSource;
import io.jkvm.api.ApiTypes.Drive;
import io.jkvm.api.ApiTypes.MachineConfiguration;
import io.jkvm.api.ApiTypes.NetworkInterface;
import io.jkvm.api.ApiTypes.Vsock;
import io.jkvm.boot.machine.DiskSpec;
import io.jkvm.boot.machine.KernelCmdline;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.machine.NetSpec;
import io.jkvm.boot.machine.VsockSpec;
import io.jkvm.devices.virtio.net.MacAddress;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The pre-boot configuration the API collects (Firecracker's VmResources): boot source, machine
 * configuration, drives, network interfaces, vsock. Each setter checks its whole body first and changes nothing when it refuses it,
 * so a refused request never leaves a half-applied configuration. Not thread-safe: the controller
 * serializes requests.
 */
final class VmResources {
    /** Firecracker's vCPU limit; jkvm's own ({@link MachineConfig#MAX_CPUS}) is higher. */
    static final int MAX_VCPUS = 32;
    /** The longest iface_id jkvm takes (Firecracker's API resource ids are alphanumeric and underscores). */
    static final int MAX_ID_LENGTH = 64;

    private BootSource bootSource;
    private MachineConfiguration machineConfig = MachineConfiguration.DEFAULT;
    private final Map<String, Drive> drives = new LinkedHashMap<>();
    private final Map<String, NetSpec> nets = new LinkedHashMap<>();
    private Optional<VsockSpec> vsock = Optional.empty();

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
            throw new ApiFault("track_dirty_pages: jkvm takes Full snapshots only, so it tracks no dirty pages.");
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
     * Creates or replaces the network interface {@code pathId}: a virtio-net device over the TAP
     * {@code host_dev_name}, which jkvm opens (or creates) at InstanceStart. {@link NetSpec} checks the TAP
     * name and mtu, {@link MacAddress} the MAC; no two interfaces share a TAP or a MAC.
     */
    void putNetworkInterface(String pathId, NetworkInterface iface) {
        if (!pathId.equals(iface.ifaceId())) throw new ApiFault("The id from the path does not match the id from the body!");
        requireResourceId("iface_id", pathId);
        if (iface.rxRateLimiter() != null || iface.txRateLimiter() != null)
            throw new ApiFault("rx_rate_limiter, tx_rate_limiter: jkvm has no rate limiters.");
        if (iface.hostDevName() == null) throw new ApiFault("host_dev_name is required.");
        Optional<MacAddress> mac = Optional.empty();
        if (iface.guestMac() != null) {
            try {
                mac = Optional.of(MacAddress.parse(iface.guestMac()));
            } catch (IllegalArgumentException e) {
                throw new ApiFault("guest_mac: " + e.getMessage() + ".");
            }
        }
        Optional<String> id = Optional.of(pathId);
        try {
            new NetSpec(iface.hostDevName(), Optional.empty(), OptionalInt.empty(), id);
        } catch (IllegalArgumentException e) {
            throw new ApiFault("host_dev_name: " + withoutOption(e) + ".");
        }
        NetSpec spec;
        try {
            spec = new NetSpec(iface.hostDevName(), mac, iface.mtu() == null ? OptionalInt.empty() : OptionalInt.of(iface.mtu()), id);
        } catch (IllegalArgumentException e) {
            throw new ApiFault("mtu: " + withoutOption(e) + ".");
        }
        for (var other : nets.entrySet()) {
            if (other.getKey().equals(pathId)) continue; // replaced
            if (other.getValue().tap().equals(spec.tap()))
                throw new ApiFault("host_dev_name: the TAP " + spec.tap() + " is already in use by network interface " + other.getKey() + ".");
            if (mac.isPresent() && mac.equals(other.getValue().mac()))
                throw new ApiFault("guest_mac: the MAC address " + mac.get() + " is already in use by network interface " + other.getKey() + ".");
        }
        nets.put(pathId, spec);
    }

    /**
     * Sets or replaces the vsock device: guest CID and the Unix socket of its host side, which jkvm binds at
     * InstanceStart (replacing a stale socket file there). {@link VsockSpec} checks the CID and the path's
     * length; a path that is not a socket, in a directory that does not exist, or that something listens on
     * is refused here. {@code vsock_id} is deprecated in Firecracker and ignored.
     */
    void setVsock(Vsock body) {
        if (body.udsPath() == null) throw new ApiFault("uds_path is required.");
        Path uds;
        try {
            uds = Path.of(body.udsPath());
        } catch (InvalidPathException e) {
            throw new ApiFault("uds_path is not a path: '" + body.udsPath() + "'.");
        }
        VsockSpec spec;
        try {
            new VsockSpec(body.guestCid(), Path.of("v")); // the cid alone, so that a fault names the right field
        } catch (IllegalArgumentException e) {
            throw new ApiFault("guest_cid: " + withoutOption(e) + " (0-2 are the hypervisor's, the host's and reserved).");
        }
        try {
            spec = new VsockSpec(body.guestCid(), uds);
        } catch (IllegalArgumentException e) {
            throw new ApiFault("uds_path: " + withoutOption(e) + ".");
        }
        Path dir = uds.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) throw new ApiFault("uds_path: the directory of " + uds + " does not exist.");
        if (Files.exists(uds, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isRegularFile(uds, LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(uds, LinkOption.NOFOLLOW_LINKS)
                    || Files.isSymbolicLink(uds))
                throw new ApiFault("uds_path: " + uds + " exists and is not a socket.");
            if (listenedOn(uds)) throw new ApiFault("uds_path: " + uds + " is in use: something listens on it.");
        }
        vsock = Optional.of(spec);
    }

    /** Whether a program accepts connections on the Unix socket {@code path} (else it is a stale file jkvm may replace). */
    private static boolean listenedOn(Path path) {
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
            return true;
        } catch (IOException e) {
            return false; // ECONNREFUSED: nobody listens
        }
    }

    /** A boot-module message without its command-line option: "--net mtu must be..." -> "mtu must be...". */
    private static String withoutOption(IllegalArgumentException e) {
        return e.getMessage().replaceFirst("^--[a-z]+ ", "");
    }

    /** Firecracker's rule for the id in a resource's path: alphanumeric characters and underscores. */
    private static void requireResourceId(String field, String id) {
        if (id.isEmpty() || id.length() > MAX_ID_LENGTH || !id.chars().allMatch(c -> c == '_' || Character.isLetterOrDigit(c)))
            throw new ApiFault(field + ": API resource IDs are 1-" + MAX_ID_LENGTH
                    + " alphanumeric characters or underscores, not '" + id + "'.");
    }

    /**
     * The machine this configuration describes: the root drive first (so it is /dev/vda), the others in
     * the order they were put, the network interfaces in the order they were first put (eth0, eth1...), the
     * vsock device, and {@code root=} on the kernel command line as Firecracker adds it.
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
                .withDisks(ordered.stream().map(VmResources::diskSpec).toList())
                .withNets(List.copyOf(nets.values()))
                .withVsock(vsock);
    }

    private static DiskSpec diskSpec(Drive drive) {
        try {
            return new DiskSpec(Path.of(drive.pathOnHost()), drive.isReadOnly(), Optional.of(drive.driveId()));
        } catch (IllegalArgumentException e) {
            throw new ApiFault("drive_id: " + e.getMessage() + " (jkvm gives it to the guest as the disk's serial).");
        }
    }

    /** Whether anything that describes a machine to boot has been PUT (a snapshot load brings its own machine). */
    boolean configured() {
        return bootSource != null || !machineConfig.equals(MachineConfiguration.DEFAULT) || !drives.isEmpty() || !nets.isEmpty()
                || vsock.isPresent();
    }

    static void requireFile(String field, String path) {
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
