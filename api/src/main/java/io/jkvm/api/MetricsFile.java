package io.jkvm.api;

import io.jkvm.boot.machine.Machine;
import io.jkvm.kvm.ExitReason;
import io.jkvm.kvm.ExitStats;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;

/**
 * PUT /metrics: one JSON object per line appended to {@code metrics_path}, every {@link #PERIOD_SECONDS} s
 * and on each FlushMetrics, as Firecracker writes its metrics. Each line has the time and, per vCPU, its
 * exits by reason with their handling time, the time spent in KVM_RUN, the PIO and MMIO exits by port and
 * address and by device, and the percentiles of the exits' handling time by reason over the interval since
 * the previous line (HdrHistogram); then, per device, what it counted ({@link Machine#deviceCounters()}:
 * virtio-blk requests, bytes and failures, UART bytes, ...). Counts are since the start: a reader takes
 * differences. {@link #snapshot} is the same object without the interval, for {@code GET /metrics}.
 */
final class MetricsFile implements AutoCloseable {
    static final int PERIOD_SECONDS = 60;

    private final OutputStream out;
    private final Supplier<Machine> machine;
    private final ScheduledExecutorService timer;

    private MetricsFile(OutputStream out, Supplier<Machine> machine) {
        this.out = out;
        this.machine = machine;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "metrics");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::flushQuietly, PERIOD_SECONDS, PERIOD_SECONDS, TimeUnit.SECONDS);
    }

    /** Opens (creates, appends to) the file or named pipe at {@code path}; {@code machine} gives the started machine or null. */
    static MetricsFile open(String path, Supplier<Machine> machine) {
        if (path == null || path.isEmpty()) throw new ApiFault("metrics_path is required.");
        try {
            return new MetricsFile(Files.newOutputStream(Path.of(path), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.APPEND), machine);
        } catch (IOException | RuntimeException e) {
            throw new ApiFault("metrics_path: cannot open " + path + " (" + e.getMessage() + ").");
        }
    }

    /** Writes one line now. */
    synchronized void flush() throws IOException {
        out.write(Json.write(snapshot(machine.get(), true)));
        out.write('\n');
        out.flush();
    }

    /**
     * The metrics of {@code machine} (null: not started, no vCPUs or devices yet) as one JSON-ready object;
     * with {@code latencyInterval}, the handling-time percentiles since the previous call that had it.
     */
    static Map<String, Object> snapshot(Machine machine, boolean latencyInterval) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("utc_timestamp_ms", System.currentTimeMillis());
        List<Map<String, Object>> vcpus = new ArrayList<>();
        if (machine != null)
            for (ExitStats s : machine.exitStats()) vcpus.add(vcpu(machine, s, latencyInterval));
        line.put("vcpus", vcpus);
        line.put("devices", machine == null ? Map.of() : machine.deviceCounters());
        return line;
    }

    private static Map<String, Object> vcpu(Machine machine, ExitStats s, boolean latencyInterval) {
        Map<String, Object> exits = new LinkedHashMap<>();
        Map<String, Object> handlingNs = new LinkedHashMap<>();
        for (ExitReason r : ExitReason.values()) {
            if (s.count(r) == 0) continue;
            exits.put(r.name(), s.count(r));
            handlingNs.put(r.name(), s.nanos(r));
        }
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("exits_total", s.totalExits());
        v.put("exits", exits);
        v.put("handling_ns", handlingNs);
        v.put("kvm_run_ns", s.nanosInKvmRun());
        if (latencyInterval) {
            Map<String, Object> latency = new LinkedHashMap<>();
            s.latencies().takeInterval().forEach((reason, h) -> latency.put(reason.name(), percentiles(h)));
            v.put("latency_ns", latency);
        }
        v.put("pio_exits", hexKeys(s.portCounts()));
        v.put("mmio_exits", hexKeys(s.mmioCounts()));
        v.put("device_exits", machine.exitsPerDevice(s));
        return v;
    }

    private static Map<String, Long> percentiles(Histogram h) {
        Map<String, Long> p = new LinkedHashMap<>();
        p.put("count", h.getTotalCount());
        p.put("p50", h.getValueAtPercentile(50));
        p.put("p90", h.getValueAtPercentile(90));
        p.put("p99", h.getValueAtPercentile(99));
        p.put("p999", h.getValueAtPercentile(99.9));
        p.put("max", h.getMaxValue());
        return p;
    }

    private static Map<String, Long> hexKeys(Map<Long, Long> counts) {
        Map<String, Long> m = new LinkedHashMap<>();
        counts.forEach((k, v) -> m.put("0x" + Long.toHexString(k), v));
        return m;
    }

    private void flushQuietly() {
        try {
            flush();
        } catch (IOException e) {
            System.getLogger(MetricsFile.class.getName()).log(System.Logger.Level.WARNING, "metrics not written", e);
        }
    }

    @Override
    public synchronized void close() throws IOException {
        timer.shutdownNow();
        out.close();
    }
}
