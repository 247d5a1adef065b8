package io.jkvm.api;

import io.jkvm.kvm.ExitReason;
import io.jkvm.kvm.ExitStats;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
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
 * exits by reason with their handling time, the time spent in KVM_RUN, and the PIO and MMIO exits by port
 * and address (counts since the start: a reader takes differences), and the percentiles of the exits'
 * handling time by reason over the interval since the previous line (HdrHistogram).
 */
final class MetricsFile implements AutoCloseable {
    static final int PERIOD_SECONDS = 60;

    private final OutputStream out;
    private final Supplier<List<ExitStats>> stats;
    private final ScheduledExecutorService timer;

    private MetricsFile(OutputStream out, Supplier<List<ExitStats>> stats) {
        this.out = out;
        this.stats = stats;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "metrics");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::flushQuietly, PERIOD_SECONDS, PERIOD_SECONDS, TimeUnit.SECONDS);
    }

    /** Opens (creates, appends to) the file or named pipe at {@code path}; {@code stats} gives the vCPUs' statistics. */
    static MetricsFile open(String path, Supplier<List<ExitStats>> stats) {
        if (path == null || path.isEmpty()) throw new ApiFault("metrics_path is required.");
        try {
            return new MetricsFile(Files.newOutputStream(Path.of(path), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.APPEND), stats);
        } catch (IOException | RuntimeException e) {
            throw new ApiFault("metrics_path: cannot open " + path + " (" + e.getMessage() + ").");
        }
    }

    /** Writes one line now. */
    synchronized void flush() throws IOException {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("utc_timestamp_ms", System.currentTimeMillis());
        List<Map<String, Object>> vcpus = new ArrayList<>();
        for (ExitStats s : stats.get()) vcpus.add(vcpu(s));
        line.put("vcpus", vcpus);
        out.write(Json.write(line));
        out.write('\n');
        out.flush();
    }

    private static Map<String, Object> vcpu(ExitStats s) {
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
        Map<String, Object> latency = new LinkedHashMap<>();
        s.latencies().takeInterval().forEach((reason, h) -> latency.put(reason.name(), percentiles(h)));
        v.put("latency_ns", latency);
        v.put("pio_exits", hexKeys(s.portCounts()));
        v.put("mmio_exits", hexKeys(s.mmioCounts()));
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
