package io.jkvm.boot.machine;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntConsumer;

/**
 * Wall-clock marks of one boot, for finding where the time goes (on PVM a boot takes minutes, see
 * ../shared/platform.md): JVM start, VM created, vCPUs started, the first serial byte, the kernel messages
 * in {@link #KERNEL_MESSAGES} (printed only when the console log level shows them: drop {@code quiet}),
 * and init's first line. A kernel line's own printk time ({@code [   15.397496] ...}) is kept beside the
 * wall-clock mark, so the guest's and the host's view of the same moment can be compared.
 *
 * <p>It watches the serial output line by line in a fixed buffer: nothing is allocated per byte, and once
 * init has spoken it stops looking. The serial sink calls it from one thread at a time.
 */
public final class BootTimeline {
    /** Kernel messages that mark the slow phases of a boot (init/initramfs.c, init/main.c). */
    public static final List<String> KERNEL_MESSAGES = List.of("Unpacking initramfs", "Freeing initrd memory", "Run /init");
    /** The kernel message after which the first line that is not a kernel message is init's. */
    private static final String RUN_INIT = "Run /init";
    /** Enough of a console line to hold a printk time and any of {@link #KERNEL_MESSAGES}. */
    private static final int LINE_BYTES = 160;

    /** One moment of the boot; {@code guestSeconds} is the kernel's printk time when the line had one. */
    public record Mark(String what, Instant at, Optional<String> guestSeconds) {}

    private final Instant jvmStart;
    private final List<Mark> marks = new ArrayList<>();
    private final byte[] line = new byte[LINE_BYTES];
    private int lineLength;
    private boolean serialSeen;
    private final boolean[] kernelMessageSeen = new boolean[KERNEL_MESSAGES.size()];
    private boolean kernelSpoke;
    private boolean initRunning;
    private boolean done;

    public BootTimeline() {
        this(Instant.ofEpochMilli(ManagementFactory.getRuntimeMXBean().getStartTime()));
    }

    BootTimeline(Instant jvmStart) {
        this.jvmStart = jvmStart;
        marks.add(new Mark("JVM start", jvmStart, Optional.empty()));
    }

    /** Records that {@code what} happened now. */
    public synchronized void mark(String what) {
        marks.add(new Mark(what, Instant.now(), Optional.empty()));
    }

    /** A serial sink that records the console marks, then passes each byte on to {@code sink}. */
    public IntConsumer watching(IntConsumer sink) {
        return b -> {
            if (!done) observe(b);
            sink.accept(b);
        };
    }

    private synchronized void observe(int b) {
        if (done) return;
        if (!serialSeen) {
            serialSeen = true;
            mark("first serial byte");
        }
        if (b != '\n') {
            if (lineLength < LINE_BYTES) line[lineLength++] = (byte) b;
            return;
        }
        int printkEnd = printkTimeEnd();
        for (int i = 0; i < kernelMessageSeen.length; i++) {
            String message = KERNEL_MESSAGES.get(i);
            if (kernelMessageSeen[i] || !contains(message, printkEnd)) continue;
            kernelMessageSeen[i] = kernelSpoke = true;
            initRunning |= message.equals(RUN_INIT);
            lineMark(message, printkEnd);
        }
        // With "quiet" the kernel prints none of its messages, and the first line without a printk time is init's.
        if (printkEnd == 0 && (initRunning || !kernelSpoke) && printable()) {
            lineMark("init's first line: " + new String(line, 0, lineLength, StandardCharsets.US_ASCII).strip(), 0);
            done = true;
        }
        lineLength = 0;
    }

    private void lineMark(String what, int printkEnd) {
        Optional<String> guestTime = printkEnd == 0 ? Optional.empty()
                : Optional.of(new String(line, 1, printkEnd - 2, StandardCharsets.US_ASCII).strip());
        marks.add(new Mark(what, Instant.now(), guestTime));
    }

    /** The length of a leading printk time {@code [ seconds.micros]}, 0 if the line has none. */
    private int printkTimeEnd() {
        if (lineLength == 0 || line[0] != '[') return 0;
        for (int i = 1; i < lineLength; i++) {
            byte c = line[i];
            if (c == ']') return i + 1;
            if (c != ' ' && c != '.' && (c < '0' || c > '9')) return 0;
        }
        return 0;
    }

    private boolean contains(String text, int from) {
        outer:
        for (int i = from; i + text.length() <= lineLength; i++) {
            for (int k = 0; k < text.length(); k++) if (line[i + k] != text.charAt(k)) continue outer;
            return true;
        }
        return false;
    }

    /** A line with something visible in it (not just the CR of CR LF or an echo of nothing). */
    private boolean printable() {
        for (int i = 0; i < lineLength; i++) if (line[i] > ' ') return true;
        return false;
    }

    public synchronized List<Mark> marks() {
        return List.copyOf(marks);
    }

    /** The marks as a table: milliseconds since JVM start, then since the previous mark, the guest's time. */
    public synchronized String format() {
        StringBuilder out = new StringBuilder("boot timeline    ms  +ms  guest s  what\n");
        Instant previous = jvmStart;
        for (Mark m : marks) {
            out.append(String.format("             %6d %5d %8s  %s%n", Duration.between(jvmStart, m.at()).toMillis(),
                    Duration.between(previous, m.at()).toMillis(), m.guestSeconds().orElse(""), m.what()));
            previous = m.at();
        }
        return out.toString();
    }
}
