package io.jkvm.kvm;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * Exit-handling time per {@link ExitReason} as HdrHistogram interval recorders: the vCPU thread, the one
 * writer, records (wait-free, nothing allocated); a reader takes what was recorded since its previous
 * take. Two significant digits (1% resolution) up to {@link #HIGHEST_NANOS}; longer handling counts as that.
 */
public final class ExitLatencies {
    static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final int SIGNIFICANT_DIGITS = 2;

    private final SingleWriterRecorder[] recorders = new SingleWriterRecorder[ExitReason.values().length];

    ExitLatencies() {
        for (int i = 0; i < recorders.length; i++) recorders[i] = new SingleWriterRecorder(HIGHEST_NANOS, SIGNIFICANT_DIGITS);
    }

    void record(ExitReason reason, long nanos) {
        recorders[reason.ordinal()].recordValue(Math.max(0, Math.min(nanos, HIGHEST_NANOS)));
    }

    /** The reasons with exits since the previous call, each with its histogram of that interval. */
    public Map<ExitReason, Histogram> takeInterval() {
        Map<ExitReason, Histogram> interval = new EnumMap<>(ExitReason.class);
        for (ExitReason r : ExitReason.values()) {
            Histogram h = recorders[r.ordinal()].getIntervalHistogram();
            if (h.getTotalCount() > 0) interval.put(r, h);
        }
        return interval;
    }
}
