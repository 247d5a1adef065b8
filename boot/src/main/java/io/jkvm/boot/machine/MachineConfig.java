package io.jkvm.boot.machine;

import io.jkvm.boot.mptable.MpTable;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything that describes one VM, as the CLI or an embedding program gives it.
 *
 * @param cmdline   the kernel command line; jkvm appends what the machine itself needs (PVM switches,
 *                  virtio-mmio devices for {@link VirtioDiscovery#CMDLINE}) before any {@code --} part
 * @param nets      virtio-net devices, each over a TAP
 * @param rng       attach a virtio-rng device fed from host entropy
 * @param discovery how the guest finds the virtio-mmio devices
 * @param forcePvmQuirks apply the PVM quirk set (kernel switches, CPUID masks, int3/fwait handling) even
 *                  where /dev/kvm is not PVM, so that a VT-x/SVM or nested KVM runs the PVM path; on PVM
 *                  it applies anyway. Default: {@link #FORCE_PVM_QUIRKS_VARIABLE} or
 *                  {@link #FORCE_PVM_QUIRKS_PROPERTY} set to {@code 1} or {@code true}
 * @param vsock     a virtio-vsock device and its host Unix socket, if any
 */
public record MachineConfig(Path kernel, Optional<Path> initrd, String cmdline, long memory, int cpus,
                            List<DiskSpec> disks, List<NetSpec> nets, boolean rng, VirtioDiscovery discovery,
                            boolean forcePvmQuirks, Optional<VsockSpec> vsock) {
    /**
     * A serial console on COM1; a quiet boot (every console byte is a VM exit); on panic, reboot at once
     * so a dead guest ends the VM instead of hanging; reboot through the i8042 reset line, which needs
     * no keyboard driver in the guest (guests/linux/README.md).
     */
    public static final String DEFAULT_CMDLINE = "console=ttyS0 quiet panic=-1 reboot=k";

    /**
     * The most vCPUs a machine can have: xAPIC IDs are 8 bits and 0xFF addresses all of them, in the MADT
     * and the MP table alike (x2APIC entries would be needed beyond).
     */
    public static final int MAX_CPUS = MpTable.MAX_CPUS;

    /** The environment variable that forces the PVM quirk set on any KVM: {@code JKVM_FORCE_PVM_QUIRKS=1}. */
    public static final String FORCE_PVM_QUIRKS_VARIABLE = "JKVM_FORCE_PVM_QUIRKS";
    /** The system property that does the same: {@code -Djkvm.forcePvmQuirks=true}. */
    public static final String FORCE_PVM_QUIRKS_PROPERTY = "jkvm.forcePvmQuirks";

    /** How a guest kernel learns where the virtio-mmio devices are, and so which firmware tables it gets. */
    public enum VirtioDiscovery {
        /**
         * One LNRO0005 device per window in the DSDT (what stock distribution kernels understand); the
         * machine has ACPI tables, so the guest can power off.
         */
        ACPI,
        /**
         * {@code virtio_mmio.device=4K@base:irq} items on the command line (CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES),
         * on a machine without ACPI ({@code acpi=off}), described by its MP table alone, as Firecracker before
         * 1.8 and QEMU's {@code microvm,acpi=off}. It cannot be both: on jkvm's hardware-reduced ACPI machine
         * Linux has no 8259s and maps an IRQ only when ACPI names it (arch/x86/kernel/acpi/boot.c,
         * acpi_generic_reduced_hw_init), so a device known from the command line alone cannot get its
         * interrupt. Without ACPI the guest cannot power off; it ends the VM with a reboot.
         */
        CMDLINE
    }

    public MachineConfig {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(initrd, "initrd");
        Objects.requireNonNull(cmdline, "cmdline");
        disks = List.copyOf(disks);
        nets = List.copyOf(nets);
        Objects.requireNonNull(discovery, "discovery");
        Objects.requireNonNull(vsock, "vsock");
        if (cpus < 1) throw new IllegalArgumentException("--cpus must be at least 1, not " + cpus);
        if (cpus > MAX_CPUS)
            throw new IllegalArgumentException("--cpus " + cpus + " is above jkvm's maximum of " + MAX_CPUS + " (8-bit APIC IDs)");
    }

    /**
     * A machine with the default command line, no disks, no network, virtio-rng on, ACPI discovery, and the PVM quirk
     * set forced if the environment or a system property asks for it.
     */
    public static MachineConfig of(Path kernel, Optional<Path> initrd, long memory, int cpus) {
        return new MachineConfig(kernel, initrd, DEFAULT_CMDLINE, memory, cpus, List.of(), List.of(), true, VirtioDiscovery.ACPI,
                pvmQuirksForced(System.getenv(FORCE_PVM_QUIRKS_VARIABLE), System.getProperty(FORCE_PVM_QUIRKS_PROPERTY)),
                Optional.empty());
    }

    /** Whether the variable's or the property's value (either may be null) asks to force the PVM quirks. */
    static boolean pvmQuirksForced(String variable, String property) {
        return isOn(variable) || isOn(property);
    }

    private static boolean isOn(String value) {
        return value != null && (value.equals("1") || value.equalsIgnoreCase("true"));
    }

    public MachineConfig withCmdline(String text) {
        return new MachineConfig(kernel, initrd, text, memory, cpus, disks, nets, rng, discovery, forcePvmQuirks, vsock);
    }

    public MachineConfig withDisks(List<DiskSpec> list) {
        return new MachineConfig(kernel, initrd, cmdline, memory, cpus, list, nets, rng, discovery, forcePvmQuirks, vsock);
    }

    public MachineConfig withNets(List<NetSpec> list) {
        return new MachineConfig(kernel, initrd, cmdline, memory, cpus, disks, list, rng, discovery, forcePvmQuirks, vsock);
    }

    public MachineConfig withRng(boolean on) {
        return new MachineConfig(kernel, initrd, cmdline, memory, cpus, disks, nets, on, discovery, forcePvmQuirks, vsock);
    }

    public MachineConfig withDiscovery(VirtioDiscovery how) {
        return new MachineConfig(kernel, initrd, cmdline, memory, cpus, disks, nets, rng, how, forcePvmQuirks, vsock);
    }

    public MachineConfig withVsock(Optional<VsockSpec> device) {
        return new MachineConfig(kernel, initrd, cmdline, memory, cpus, disks, nets, rng, discovery, forcePvmQuirks, device);
    }

    public MachineConfig withForcedPvmQuirks(boolean force) {
        return new MachineConfig(kernel, initrd, cmdline, memory, cpus, disks, nets, rng, discovery, force, vsock);
    }
}
