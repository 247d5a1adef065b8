package io.jkvm.boot.acpi;

/**
 * One virtio-mmio device as the guest sees it (virtio 1.2 §4.2.2): a register window below 4 GiB and the
 * GSI its interrupt arrives on.
 */
public record VirtioMmioWindow(long base, long size, int gsi) {
    /** The register window size Linux and Firecracker use: one page. */
    public static final long DEFAULT_SIZE = 0x1000;

    public VirtioMmioWindow {
        if (base < 0 || size <= 0 || base + size > 0x1_0000_0000L)
            throw new IllegalArgumentException(String.format("virtio-mmio window [%#x, +%#x) must lie below 4 GiB", base, size));
        if (gsi < 0) throw new IllegalArgumentException("negative GSI " + gsi);
    }

    public VirtioMmioWindow(long base, int gsi) {
        this(base, DEFAULT_SIZE, gsi);
    }
}
