package io.jkvm.boot.snapshot;

import io.jkvm.boot.Layout;
import io.jkvm.boot.loader.BootConfigException;
import io.jkvm.boot.machine.DiskSpec;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.machine.MachineConfig.VirtioDiscovery;
import io.jkvm.boot.machine.NetSpec;
import io.jkvm.boot.machine.VsockSpec;
import io.jkvm.devices.virtio.net.MacAddress;
import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import io.jkvm.snapshot.Stateful;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Supplier;

/**
 * The machine a snapshot was taken of, the first section of its state: what a restore must build, the same
 * way, before the vCPU, VM and device sections can be loaded into it. That is the {@link MachineConfig}
 * (vCPUs, RAM, ACPI or command-line discovery, the command line, the virtio devices in window order: disks,
 * network cards, entropy, vsock) and the size of every disk image, which the guest's file systems depend
 * on. The kernel and initrd paths are kept for the record; a restored machine loads no kernel.
 *
 * <p>Disks stay the user's files: a restore checks that each is where it was, with the same size
 * ({@link #checkDisks}), and nothing more: writing to a disk between snapshot and restore is the user's
 * business, as on Firecracker.
 *
 * @param diskSizes the size in bytes of each of {@code config.disks()}, in the same order, at snapshot time
 */
public record MachineShape(MachineConfig config, List<Long> diskSizes) {
    /** The name of the section in the state file. */
    public static final String SECTION = "machine";

    public MachineShape {
        diskSizes = List.copyOf(diskSizes);
        if (diskSizes.size() != config.disks().size())
            throw new IllegalArgumentException(config.disks().size() + " disks but " + diskSizes.size() + " sizes");
    }

    /** The shape of a machine built from {@code config}, with its disks measured now. */
    public static MachineShape of(MachineConfig config) {
        List<Long> sizes = new ArrayList<>();
        for (DiskSpec disk : config.disks()) {
            try {
                sizes.add(Files.size(disk.path()));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot measure disk " + disk.path() + ": " + e.getMessage(), e);
            }
        }
        return new MachineShape(config, sizes);
    }

    /**
     * Checks that every disk is still a file of the size it had at snapshot time.
     *
     * @throws BootConfigException naming the first disk that is missing or has another size
     */
    public void checkDisks() {
        for (int i = 0; i < diskSizes.size(); i++) {
            Path path = config.disks().get(i).path();
            long was = diskSizes.get(i);
            if (!Files.isRegularFile(path))
                throw new BootConfigException("disk " + path + " is missing (it was " + was + " bytes at snapshot)");
            long now;
            try {
                now = Files.size(path);
            } catch (IOException e) {
                throw new BootConfigException("disk " + path + " cannot be measured: " + e.getMessage(), e);
            }
            if (now != was) throw new BootConfigException("disk " + path + " was " + was + " bytes at snapshot, is " + now + " now");
        }
    }

    /**
     * The configuration to build the restored machine from: the saved one, with the host ends of its
     * channels replaced as {@code overrides} asks.
     *
     * @throws BootConfigException an override names a network interface or vsock device the machine does not have
     */
    public MachineConfig toMachineConfig(RestoreOverrides overrides) {
        Map<String, String> taps = new HashMap<>(overrides.taps());
        List<NetSpec> nets = new ArrayList<>();
        for (NetSpec net : config.nets()) {
            String tap = taps.remove(net.label());
            nets.add(tap == null ? net : new NetSpec(tap, net.mac(), net.mtu(), net.id()));
        }
        if (!taps.isEmpty()) {
            throw new BootConfigException("the snapshot has no network interface " + String.join(", ", taps.keySet())
                    + " (it has: " + String.join(", ", config.nets().stream().map(NetSpec::label).toList()) + ")");
        }
        Optional<VsockSpec> vsock = config.vsock();
        if (overrides.vsockUds().isPresent()) {
            if (vsock.isEmpty()) throw new BootConfigException("the snapshot has no vsock device whose socket could be replaced");
            vsock = Optional.of(new VsockSpec(vsock.get().cid(), overrides.vsockUds().get()));
        }
        return config.withNets(nets).withVsock(vsock);
    }

    /** Writes the {@value #SECTION} section. */
    public void write(StateWriter out) {
        out.section(SECTION, new Section(this));
    }

    /**
     * Reads the {@value #SECTION} section: every value is checked as the command line would check it
     * (vCPU count, disk ids, TAP names, MACs, MTUs, CIDs, socket paths), and device counts against the
     * machine's virtio-mmio windows, so that a hostile file is a {@link SnapshotFormatException}.
     */
    public static MachineShape read(StateReader in) {
        Section section = new Section(null);
        in.section(SECTION, section);
        return section.shape;
    }

    /** The section's body; version 1 of the format (docs/snapshot-format.md lists the fields in order). */
    private static final class Section implements Stateful {
        /** How {@link VirtioDiscovery} is saved: fixed codes, not ordinals, so reordering the enum changes no file. */
        private static final int DISCOVERY_ACPI = 0, DISCOVERY_CMDLINE = 1;
        private MachineShape shape;

        Section(MachineShape shape) {
            this.shape = shape;
        }

        @Override
        public void saveState(StateWriter out) {
            MachineConfig c = shape.config;
            out.string(c.kernel().toString());
            optional(out, c.initrd().map(Path::toString));
            out.string(c.cmdline()).u64(c.memory()).u32(c.cpus()).u8(switch (c.discovery()) {
                case ACPI -> DISCOVERY_ACPI;
                case CMDLINE -> DISCOVERY_CMDLINE;
            })
                    .bool(c.forcePvmQuirks()).bool(c.rng());
            out.u32(c.disks().size());
            for (int i = 0; i < c.disks().size(); i++) {
                DiskSpec d = c.disks().get(i);
                out.string(d.path().toString()).bool(d.readOnly());
                optional(out, d.id());
                out.u64(shape.diskSizes.get(i));
            }
            out.u32(c.nets().size());
            for (NetSpec n : c.nets()) {
                out.string(n.tap()).bool(n.mac().isPresent()).u64(n.mac().map(MacAddress::value).orElse(0L))
                        .bool(n.mtu().isPresent()).u32(n.mtu().orElse(0));
                optional(out, n.id());
            }
            out.bool(c.vsock().isPresent());
            c.vsock().ifPresent(v -> out.u64(v.cid()).string(v.uds().toString()));
        }

        @Override
        public void restoreState(StateReader in) {
            Path kernel = checked("the kernel path", () -> Path.of(in.string()));
            Optional<Path> initrd = optional(in).map(p -> checked("the initrd path", () -> Path.of(p)));
            String cmdline = in.string();
            long memory = in.u64();
            try {
                Layout.ramRanges(memory); // the checks --memory gets: minimum, 4 KiB multiple, KVM's slot limit
            } catch (BootConfigException e) {
                throw new SnapshotFormatException("the machine's " + e.getMessage());
            }
            int cpus = in.u32InRange("the vCPU count", 1, MachineConfig.MAX_CPUS);
            VirtioDiscovery discovery = switch (in.u8()) {
                case DISCOVERY_ACPI -> VirtioDiscovery.ACPI;
                case DISCOVERY_CMDLINE -> VirtioDiscovery.CMDLINE;
                default -> throw new SnapshotFormatException("the machine's virtio discovery is neither ACPI (0) nor cmdline (1)");
            };
            boolean forcePvmQuirks = in.bool();
            boolean rng = in.bool();
            int devices = rng ? 1 : 0;

            int diskCount = in.u32InRange("the disk count", 0, Layout.VIRTIO_MMIO_MAX_DEVICES - devices);
            devices += diskCount;
            List<DiskSpec> disks = new ArrayList<>();
            List<Long> sizes = new ArrayList<>();
            for (int i = 0; i < diskCount; i++) {
                String path = in.string();
                boolean readOnly = in.bool();
                Optional<String> id = optional(in);
                disks.add(checked("disk " + i, () -> new DiskSpec(Path.of(path), readOnly, id)));
                long size = in.u64();
                if (size < 0) throw new SnapshotFormatException("disk " + path + " has a size of " + Long.toUnsignedString(size) + " bytes");
                sizes.add(size);
            }
            int netCount = in.u32InRange("the network interface count", 0, Layout.VIRTIO_MMIO_MAX_DEVICES - devices);
            devices += netCount;
            List<NetSpec> nets = new ArrayList<>();
            for (int i = 0; i < netCount; i++) {
                String tap = in.string();
                boolean hasMac = in.bool();
                long mac = in.u64();
                boolean hasMtu = in.bool();
                int mtu = in.u32();
                Optional<String> id = optional(in);
                nets.add(checked("network interface " + i, () -> new NetSpec(tap, hasMac ? Optional.of(new MacAddress(mac)) : Optional.empty(),
                        hasMtu ? OptionalInt.of(mtu) : OptionalInt.empty(), id)));
            }
            Optional<VsockSpec> vsock = Optional.empty();
            if (in.bool()) {
                if (devices == Layout.VIRTIO_MMIO_MAX_DEVICES)
                    throw new SnapshotFormatException("the machine has more than " + Layout.VIRTIO_MMIO_MAX_DEVICES + " virtio devices");
                long cid = in.u64();
                String uds = in.string();
                vsock = Optional.of(checked("the vsock device", () -> new VsockSpec(cid, Path.of(uds))));
            }
            Optional<VsockSpec> device = vsock;
            MachineConfig config = checked("the machine", () -> new MachineConfig(kernel, initrd, cmdline, memory, cpus,
                    disks, nets, rng, discovery, forcePvmQuirks, device));
            shape = new MachineShape(config, sizes);
        }

        private static void optional(StateWriter out, Optional<String> value) {
            out.bool(value.isPresent());
            value.ifPresent(out::string);
        }

        private static Optional<String> optional(StateReader in) {
            return in.bool() ? Optional.of(in.string()) : Optional.empty();
        }

        /** {@code make}'s value; a value it refuses (IllegalArgumentException, InvalidPathException) is a format error. */
        private static <T> T checked(String what, Supplier<T> make) {
            try {
                return make.get();
            } catch (IllegalArgumentException e) {
                throw new SnapshotFormatException(what + " in the snapshot is invalid: " + e.getMessage());
            }
        }
    }
}
