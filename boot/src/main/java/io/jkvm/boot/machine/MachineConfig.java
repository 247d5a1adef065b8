package io.jkvm.boot.machine;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything that describes one VM, as the CLI or an embedding program gives it.
 *
 * @param cmdline   the kernel command line; jkvm appends what the machine itself needs (PVM switches,
 *                  virtio-mmio devices for {@link VirtioDiscovery#CMDLINE}) before any {@code --} part
 * @param rng       attach a virtio-rng device fed from host entropy
 * @param discovery how the guest finds the virtio-mmio devices
 */
public record MachineConfig(Path kernel, Optional<Path> initrd, String cmdline, long memory, int cpus,
                            List<DiskSpec> disks, boolean rng, VirtioDiscovery discovery) {
    /**
     * A serial console on COM1; a quiet boot (every console byte is a VM exit); on panic, reboot at once
     * so a dead guest ends the VM instead of hanging; reboot through the i8042 reset line, which needs
     * no keyboard driver in the guest (guests/linux/README.md).
     */
    public static final String DEFAULT_CMDLINE = "console=ttyS0 quiet panic=-1 reboot=k";

    /** How a guest kernel learns where the virtio-mmio devices are. */
    public enum VirtioDiscovery {
        /** One LNRO0005 device per window in the DSDT (what stock distribution kernels understand). */
        ACPI,
        /** {@code virtio_mmio.device=4K@base:irq} items on the command line (CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES). */
        CMDLINE
    }

    public MachineConfig {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(initrd, "initrd");
        Objects.requireNonNull(cmdline, "cmdline");
        disks = List.copyOf(disks);
        Objects.requireNonNull(discovery, "discovery");
        if (cpus < 1) throw new IllegalArgumentException("--cpus must be at least 1, not " + cpus);
    }

    /** A machine with the default command line, no disks, virtio-rng on, ACPI discovery. */
    public static MachineConfig of(Path kernel, Optional<Path> initrd, long memory, int cpus) {
        return new MachineConfig(kernel, initrd, DEFAULT_CMDLINE, memory, cpus, List.of(), true, VirtioDiscovery.ACPI);
    }

    public MachineConfig withCmdline(String text) {
        return new MachineConfig(kernel, initrd, text, memory, cpus, disks, rng, discovery);
    }

    public MachineConfig withDisks(List<DiskSpec> list) {
        return new MachineConfig(kernel, initrd, cmdline, memory, cpus, list, rng, discovery);
    }

    public MachineConfig withDiscovery(VirtioDiscovery how) {
        return new MachineConfig(kernel, initrd, cmdline, memory, cpus, disks, rng, how);
    }
}
