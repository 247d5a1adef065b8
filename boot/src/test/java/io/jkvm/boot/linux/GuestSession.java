package io.jkvm.boot.linux;

import static org.junit.jupiter.api.Assertions.fail;

import io.jkvm.boot.machine.Machine;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.kvm.RunOutcome;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.IntConsumer;

/**
 * A booted Linux guest driven through its serial console, as a person at a terminal would: wait for
 * text, type a line, read the answer. Keeps the whole console log for assertions and failure messages.
 */
final class GuestSession implements AutoCloseable {
    private final StringBuilder console = new StringBuilder();
    private final Machine machine;
    private final CompletableFuture<RunOutcome> outcome = new CompletableFuture<>();
    private int consumed;

    GuestSession(MachineConfig config) {
        this(console -> Machine.create(config, console));
    }

    /** A session on the machine {@code build} makes with the given serial console (a restore, say). */
    GuestSession(Function<IntConsumer, Machine> build) {
        machine = build.apply(this::onSerialByte);
        Thread t = new Thread(() -> {
            try {
                outcome.complete(machine.run());
            } catch (Throwable e) {
                outcome.completeExceptionally(e);
            }
        }, "guest-session");
        t.setDaemon(true);
        t.start();
    }

    private void onSerialByte(int b) {
        synchronized (console) {
            console.append((char) (b & 0xff));
            console.notifyAll();
        }
    }

    Machine machine() {
        return machine;
    }

    /** Waits until {@code text} appears after what earlier waits consumed; returns the output up to and including it. */
    String await(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (console) {
            while (true) {
                int at = console.indexOf(text, consumed);
                if (at >= 0) {
                    String seen = console.substring(consumed, at + text.length());
                    consumed = at + text.length();
                    return seen;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || outcome.isDone())
                    fail("no '" + text + "' on the console within " + timeout + (outcome.isDone() ? " (guest ended: "
                            + outcome.getNow(null) + ")" : "") + "; console so far:\n" + console);
                console.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    /**
     * Types {@code command} and returns what it printed, delimited by an end marker the shell echoes after it
     * (the marker's text is built so that the echoed command line itself never matches).
     */
    String run(String command, Duration timeout) throws InterruptedException {
        String end = "JKVM-DONE";
        type(command + "; echo " + end.substring(0, 4) + "'-'" + end.substring(5) + "\n");
        String out = await(end, timeout);
        return out.substring(0, out.length() - end.length());
    }

    void type(String text) {
        for (byte b : text.getBytes(StandardCharsets.US_ASCII)) machine.sendInput(b & 0xff);
    }

    RunOutcome awaitEnd(Duration timeout) throws Exception {
        try {
            return outcome.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return fail("the guest did not end within " + timeout + "; console:\n" + log());
        }
    }

    String log() {
        synchronized (console) {
            return console.toString();
        }
    }

    @Override
    public void close() {
        machine.close();
    }
}
