package io.jkvm.boot.cache;

import io.jkvm.boot.initramfs.Initramfs;
import io.jkvm.boot.loader.BootConfigException;
import io.jkvm.boot.machine.KernelCmdline;
import io.jkvm.boot.machine.Machine;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.snapshot.SavedMachine;
import io.jkvm.boot.snapshot.Snapshotter;
import io.jkvm.kvm.RunOutcome;
import io.jkvm.snapshot.SnapshotFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * Fast start from a snapshot: a guest is booted once to the point where its init waits for a command, saved
 * there, and later runs with the same inputs ({@link BootCacheKey}) restore it instead of booting. A Linux
 * boot takes about half a second on VT-x but minutes where guest kernel code is emulated (PVM); a restore
 * maps a memory file and loads a few registers.
 *
 * <p>The guest's init must take its command from the console: jkvm's default initramfs does so with
 * {@code JKVM_COMMAND_FROM=console} on the kernel command line (added here), printing
 * {@link Initramfs#READY_MARKER} and reading one {@link ConsoleCommandLine}. So the command never is part of
 * the booted state and each run may give another one, and the guest's clock is set from the host's at that
 * moment, however old the snapshot.
 *
 * <ul>
 *   <li><b>Miss:</b> the machine boots with a {@link ConsoleMarker} on its console; when the marker goes by
 *       (init is then between printing it and reading its line: nothing else moves), the machine is paused,
 *       saved into a new entry, resumed, and the command line typed. The entry is published after that, so the
 *       guest waits only for the snapshot itself.</li>
 *   <li><b>Hit:</b> the machine is restored from the entry, and once it runs the command line is typed.</li>
 *   <li><b>Bad entry:</b> one that does not restore ({@link SnapshotFormatException}: another jkvm's format,
 *       a corrupt or truncated file) is removed with one line on the log, and the guest boots cold.</li>
 * </ul>
 * A cache that cannot be written (a full disk, say) costs one line on the log and the run goes on uncached.
 */
public final class BootCache {
    /** How often a waiting helper looks whether the machine ended or started. */
    private static final long POLL_MILLIS = 1;

    private final BootCacheStore store;
    private final Snapshotter snapshotter;
    private final Consumer<String> log;

    /**
     * A boot cache over {@code store}, saving and restoring machines with {@code snapshotter}, saying what it does
     * (hits, new entries, bad entries) in lines to {@code log}.
     */
    public BootCache(BootCacheStore store, Snapshotter snapshotter, Consumer<String> log) {
        this.store = store;
        this.snapshotter = snapshotter;
        this.log = log;
    }

    /** A machine from the boot cache, not run yet, and whether it was restored (else it boots and fills the cache). */
    public static final class Start {
        private final Machine machine;
        private final boolean restored;
        private final Thread helper;

        private Start(Machine machine, boolean restored, Thread helper) {
            this.machine = machine;
            this.restored = restored;
            this.helper = helper;
        }

        public Machine machine() {
            return machine;
        }

        public boolean restored() {
            return restored;
        }

        /**
         * Waits until the new entry is written (after a miss; at once after a hit). Call it after {@link Machine#run}
         * has returned: a guest that ends before its snapshot was taken leaves nothing to wait for.
         */
        public void awaitCacheWritten() throws InterruptedException {
            helper.join();
        }
    }

    /**
     * Boots or restores the machine {@code config} describes, whose command line has no {@code --} part, to run
     * {@code command} with {@code sh -c} (empty: an interactive shell), console to {@code serialOut}, exits traced
     * to {@code exitTrace} (null: none). The caller runs the machine; the command is typed once it runs.
     *
     * @throws IllegalArgumentException the command line has a {@code --} part, or the command is too long for a
     *                                  console line ({@link ConsoleCommandLine#MAX_LINE})
     * @throws io.jkvm.boot.loader.BootException bad input, as {@link Machine#create} has it
     */
    public Start start(MachineConfig config, String command, IntConsumer serialOut, Consumer<String> exitTrace) {
        KernelCmdline.Parts parts = KernelCmdline.split(config.cmdline());
        if (parts.init().isPresent())
            throw new IllegalArgumentException("with the boot cache the command is given apart, not after -- on the command line");
        ConsoleCommandLine.encode(Instant.now(), command); // too long: refused before anything starts
        MachineConfig boot = commandFromConsole(config);
        BootCacheKey key = BootCacheKey.of(boot);
        Optional<Machine> restored = restore(boot, key, serialOut, exitTrace);
        if (restored.isPresent()) {
            Machine machine = restored.get();
            return new Start(machine, true, helper(() -> {
                awaitRunning(machine);
                type(machine, command);
            }));
        }
        CountDownLatch ready = new CountDownLatch(1);
        IntConsumer watched = new ConsoleMarker(Initramfs.READY_MARKER).watching(serialOut, ready::countDown);
        Machine machine = Machine.create(boot, watched, exitTrace);
        return new Start(machine, false, helper(() -> {
            if (!awaitMarker(machine, ready)) return;
            Optional<BootCacheStore.Pending> entry = save(machine, key);
            type(machine, command);
            entry.ifPresent(e -> publish(e, key));
        }));
    }

    /** The machine {@code config} describes, with an /init that takes its command from the console. */
    static MachineConfig commandFromConsole(MachineConfig config) {
        return config.withCmdline((config.cmdline() + " " + Initramfs.COMMAND_FROM_VARIABLE + "=" + Initramfs.COMMAND_FROM_CONSOLE).strip());
    }

    /** {@link #start} the machine, run it until it ends, close it, and return how it ended. */
    public RunOutcome run(MachineConfig config, String command, IntConsumer console) throws InterruptedException {
        Start start = start(config, command, console, null);
        try (Machine machine = start.machine()) {
            RunOutcome outcome = machine.run();
            start.awaitCacheWritten();
            return outcome;
        }
    }

    /** The machine restored from {@code key}'s entry, or empty: no entry, or a bad one (removed, said on the log). */
    private Optional<Machine> restore(MachineConfig boot, BootCacheKey key, IntConsumer serialOut, Consumer<String> exitTrace) {
        Optional<BootCacheStore.Entry> entry;
        try {
            entry = store.lookup(key);
        } catch (IOException e) {
            log.accept("jkvm: boot cache " + store.root() + " unreadable (" + e.getMessage() + "), booting without it");
            return Optional.empty();
        }
        if (entry.isEmpty()) return Optional.empty();
        long began = System.nanoTime();
        try {
            SavedMachine saved = SavedMachine.read(entry.get().state());
            saved.checkHostFiles(entry.get().memory());
            requireSameMachine(saved.shape().config(), boot);
            // The key covers all the guest sees: the run's own configuration gives the host ends (TAPs, sockets).
            Machine machine = snapshotter.restore(saved, boot, entry.get().memory(), false, serialOut, exitTrace);
            log.accept("jkvm: boot cache hit " + key.shortForm() + ", restored in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began) + " ms");
            return Optional.of(machine);
        } catch (SnapshotFormatException | BootConfigException | IOException | UncheckedIOException e) {
            log.accept("jkvm: boot cache entry " + key.shortForm() + " does not restore (" + e.getMessage() + "): removed, booting cold");
            try {
                store.discard(key);
            } catch (IOException gone) {
                log.accept("jkvm: cannot remove boot cache entry " + key.shortForm() + ": " + gone.getMessage());
            }
            return Optional.empty();
        }
    }

    /**
     * An entry is named by its key, but its files are host input like any other: one that holds a machine of
     * another size or command line (a file copied in by hand, say) is refused before anything is built.
     */
    private static void requireSameMachine(MachineConfig saved, MachineConfig boot) {
        if (saved.memory() != boot.memory() || saved.cpus() != boot.cpus() || !saved.cmdline().equals(boot.cmdline()))
            throw new SnapshotFormatException("the entry holds another machine (" + saved.cpus() + " vCPUs, "
                    + saved.memory() + " bytes, command line '" + saved.cmdline() + "')");
    }

    /** Pauses the booted machine, saves it into a new entry and resumes it; empty if the snapshot failed (said on the log). */
    private Optional<BootCacheStore.Pending> save(Machine machine, BootCacheKey key) {
        BootCacheStore.Pending entry = null;
        try {
            entry = store.begin(key);
            machine.pause();
            try {
                snapshotter.snapshot(machine, entry.state(), entry.memory());
            } finally {
                machine.resume();
            }
            return Optional.of(entry);
        } catch (IOException | RuntimeException e) {
            log.accept("jkvm: boot cache: no snapshot saved (" + e.getMessage() + "), the run goes on uncached");
            if (entry != null) abandon(entry);
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (entry != null) abandon(entry);
            return Optional.empty();
        }
    }

    private void publish(BootCacheStore.Pending entry, BootCacheKey key) {
        try {
            entry.commit();
            log.accept("jkvm: boot cache: booted cold, saved as " + key.shortForm() + " in " + store.root());
        } catch (IOException e) {
            log.accept("jkvm: boot cache: cannot save entry " + key.shortForm() + " (" + e.getMessage() + ")");
            abandon(entry);
        }
    }

    private void abandon(BootCacheStore.Pending entry) {
        try {
            entry.abandon();
        } catch (IOException e) {
            log.accept("jkvm: boot cache: cannot remove a half-written entry: " + e.getMessage());
        }
    }

    /** Types the time and the command on the console, as {@link ConsoleCommandLine}s, byte by byte. */
    private static void type(Machine machine, String command) {
        for (byte b : ConsoleCommandLine.encode(Instant.now(), command)) machine.sendInput(b & 0xff);
    }

    /** Waits until init printed the marker (true) or the machine ended without it (false). */
    private static boolean awaitMarker(Machine machine, CountDownLatch ready) throws InterruptedException {
        while (!ready.await(100, TimeUnit.MILLISECONDS))
            if (machine.state() == Machine.State.ENDED) return false;
        return true;
    }

    /** Waits until the caller has started the machine: the time typed is that of the run, not of its creation. */
    private static void awaitRunning(Machine machine) throws InterruptedException {
        while (machine.state() == Machine.State.NOT_STARTED) Thread.sleep(POLL_MILLIS);
    }

    private interface Step {
        void run() throws InterruptedException;
    }

    /** The thread that types the command (and on a miss, saves the entry first); a daemon, so it never holds the JVM. */
    private static Thread helper(Step step) {
        Thread t = new Thread(() -> {
            try {
                step.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "boot-cache");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
