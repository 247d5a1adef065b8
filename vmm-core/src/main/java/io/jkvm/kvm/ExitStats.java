package io.jkvm.kvm;

import io.jkvm.bus.Bus;
import java.util.Map;
import java.util.TreeMap;

/**
 * Per-vCPU exit statistics (for --exit-stats and the API's metrics): exits and userspace handling time per
 * {@link ExitReason}, time inside KVM_RUN, exits per I/O port and per MMIO address, and once asked for,
 * handling-time histograms ({@link ExitLatencies}). Recording allocates nothing. Written
 * by the vCPU thread only; read it after the run has ended (or accept a racy snapshot).
 */
public final class ExitStats {
    private static final int ADDRESS_SLOTS = 1024;

    private final long[] counts = new long[ExitReason.values().length];
    private final long[] nanos = new long[ExitReason.values().length];
    private final AddressCounter ports = new AddressCounter(ADDRESS_SLOTS);
    private final AddressCounter mmioAddresses = new AddressCounter(ADDRESS_SLOTS);
    private long nanosInKvmRun;
    /** Null until {@link #latencies()} is first called: recording them costs the exit path a few ns. */
    private volatile ExitLatencies latencies;

    void recordExit(ExitReason reason, long handlingNanos) {
        counts[reason.ordinal()]++;
        nanos[reason.ordinal()] += handlingNanos;
        ExitLatencies l = latencies;
        if (l != null) l.record(reason, handlingNanos);
    }

    /** The handling-time histograms per reason, recorded from the first call of this method on. */
    public synchronized ExitLatencies latencies() {
        if (latencies == null) latencies = new ExitLatencies();
        return latencies;
    }

    void recordKvmRun(long elapsedNanos) {
        nanosInKvmRun += elapsedNanos;
    }

    void recordPort(int port) {
        ports.increment(port);
    }

    void recordMmio(long address) {
        mmioAddresses.increment(address);
    }

    public long count(ExitReason reason) {
        return counts[reason.ordinal()];
    }

    /** Time spent handling exits of {@code reason} in the VMM, from KVM_RUN's return to the next KVM_RUN. */
    public long nanos(ExitReason reason) {
        return nanos[reason.ordinal()];
    }

    public long totalExits() {
        long total = 0;
        for (long c : counts) total += c;
        return total;
    }

    /** Time spent inside KVM_RUN (guest and kernel). */
    public long nanosInKvmRun() {
        return nanosInKvmRun;
    }

    /** Port → PIO exits, by port. */
    public Map<Long, Long> portCounts() {
        return ports.snapshot();
    }

    /** Guest-physical address → MMIO exits, by address. */
    public Map<Long, Long> mmioCounts() {
        return mmioAddresses.snapshot();
    }

    /**
     * The PIO and MMIO exits per device, named as exit traces name them: a port device by its name
     * ({@code uart}, both i8042 ports as {@code i8042}), an MMIO device with its base
     * ({@code virtio-blk@0xd0000000}); {@code no device} for unclaimed accesses, {@code other} for addresses
     * beyond the counting table. Worked out from the per-address counts when asked, so the exit path pays nothing.
     */
    public Map<String, Long> exitsPerDevice(Bus pio, Bus mmio) {
        Map<String, Long> m = new TreeMap<>();
        portCounts().forEach((port, c) -> {
            Bus.Range r = pio.find(port);
            m.merge(r == null ? "no device" : r.device().name(), c, Long::sum);
        });
        mmioCounts().forEach((address, c) -> {
            Bus.Range r = mmio.find(address);
            m.merge(r == null ? "no device" : r.nameAtBase(), c, Long::sum);
        });
        if (ports.overflow() + mmioAddresses.overflow() > 0) m.put("other", ports.overflow() + mmioAddresses.overflow());
        return m;
    }

    /** A readable table: reasons with exits, then ports and MMIO addresses. */
    public String format() {
        StringBuilder sb = new StringBuilder(String.format("%-16s %12s %14s %10s%n", "exit reason", "count", "handling µs", "avg ns"));
        for (ExitReason r : ExitReason.values()) {
            long c = count(r);
            if (c == 0) continue;
            sb.append(String.format("%-16s %12d %14d %10d%n", r, c, nanos(r) / 1000, nanos(r) / c));
        }
        sb.append(String.format("time in KVM_RUN: %d µs%n", nanosInKvmRun / 1000));
        portCounts().forEach((port, c) -> sb.append(String.format("  port %#06x %12d%n", port, c)));
        if (ports.overflow() > 0) sb.append(String.format("  other ports %12d%n", ports.overflow()));
        mmioCounts().forEach((addr, c) -> sb.append(String.format("  mmio %#014x %12d%n", addr, c)));
        if (mmioAddresses.overflow() > 0) sb.append(String.format("  other mmio %12d%n", mmioAddresses.overflow()));
        return sb.toString();
    }
}
