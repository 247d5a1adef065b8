package io.jkvm.api;

import io.jkvm.api.ApiTypes.Logger;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;

/**
 * PUT /logger: jkvm's log (System.Logger, whose default backend is java.util.logging) goes to the file or
 * named pipe {@code log_path}, one line per record, at Firecracker's levels (Error, Warning, Info, Debug,
 * Trace, Off; any case), with the level and the origin when asked, only from loggers whose name starts with
 * {@code module} when given. A later PUT replaces the earlier sink. At level Trace, a VM started afterwards
 * describes each of its exits in the log (logger {@code io.jkvm.exits}, as {@code --trace-exits} does).
 */
final class LogSink {
    private static final Map<String, Level> LEVELS = Map.of("error", Level.SEVERE, "warning", Level.WARNING,
            "info", Level.INFO, "debug", Level.FINE, "trace", Level.FINEST, "off", Level.OFF);

    private Handler installed;

    /** Whether the log takes Trace records: a VM started then has its exits traced into it. */
    boolean tracing() {
        return installed != null && installed.getLevel().intValue() <= Level.FINEST.intValue();
    }

    void configure(Logger body, String instanceId) {
        Level level = LEVELS.get(body.level() == null ? "info" : body.level().toLowerCase(Locale.ROOT));
        if (level == null) throw new ApiFault("level must be one of Error, Warning, Info, Debug, Trace, Off, not '" + body.level() + "'.");
        if (body.logPath() == null) throw new ApiFault("log_path is required.");
        PrintStream out;
        try {
            OutputStream file = Files.newOutputStream(Path.of(body.logPath()), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            out = new PrintStream(file, true, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw new ApiFault("log_path: cannot open " + body.logPath() + " (" + e.getMessage() + ").");
        }
        Handler handler = new LineHandler(out, instanceId, Boolean.TRUE.equals(body.showLevel()),
                Boolean.TRUE.equals(body.showLogOrigin()), body.module());
        handler.setLevel(level);
        java.util.logging.Logger root = LogManager.getLogManager().getLogger("");
        if (installed != null) {
            root.removeHandler(installed);
            installed.close();
        }
        root.setLevel(level);
        root.addHandler(handler);
        installed = handler;
    }

    /** One line per record: {@code 2026-12-02T04:31:07Z [jkvm:ID:LEVEL:origin] message}. */
    private static final class LineHandler extends Handler {
        private final PrintStream out;
        private final String instanceId;
        private final boolean showLevel;
        private final boolean showOrigin;
        private final String module;

        LineHandler(PrintStream out, String instanceId, boolean showLevel, boolean showOrigin, String module) {
            this.out = out;
            this.instanceId = instanceId;
            this.showLevel = showLevel;
            this.showOrigin = showOrigin;
            this.module = module;
        }

        @Override
        public void publish(LogRecord r) {
            if (!isLoggable(r)) return;
            if (module != null && (r.getLoggerName() == null || !r.getLoggerName().startsWith(module))) return;
            StringBuilder line = new StringBuilder().append(Instant.ofEpochMilli(r.getMillis())).append(" [jkvm:").append(instanceId);
            if (showLevel) line.append(':').append(r.getLevel().getName());
            if (showOrigin) line.append(':').append(r.getSourceClassName()).append('.').append(r.getSourceMethodName());
            line.append("] ").append(r.getMessage());
            if (r.getThrown() != null) line.append(": ").append(r.getThrown());
            out.println(line);
        }

        @Override
        public void flush() {
            out.flush();
        }

        @Override
        public void close() {
            out.close();
        }
    }
}
