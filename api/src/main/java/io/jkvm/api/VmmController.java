package io.jkvm.api;

import io.jkvm.api.ApiTypes.BootSource;
import io.jkvm.api.ApiTypes.Drive;
import io.jkvm.api.ApiTypes.InstanceActionInfo;
import io.jkvm.api.ApiTypes.InstanceInfo;
import io.jkvm.api.ApiTypes.MachineConfiguration;
import io.jkvm.api.ApiTypes.Vm;
import io.jkvm.boot.Version;
import io.jkvm.boot.loader.BootException;
import io.jkvm.boot.machine.Machine;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.snapshot.RestoreOverrides;
import io.jkvm.boot.snapshot.SavedMachine;
import io.jkvm.boot.snapshot.Snapshotter;
import io.jkvm.kvm.ExitStats;
import io.jkvm.kvm.KvmUnavailableException;
import io.jkvm.kvm.RunOutcome;
import io.jkvm.snapshot.SnapshotFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntConsumer;

/**
 * What the API does, request by request, one at a time: collects the pre-boot configuration
 * ({@link VmResources}), starts the machine on InstanceStart, then pauses, resumes and sends it
 * Ctrl-Alt-Del; or, instead of a start, loads a snapshot, and snapshots a paused machine (both through a
 * {@link Snapshotter}). Pre-boot resources after the start, and runtime operations before it, are refused with
 * Firecracker's messages. Knows nothing of HTTP ({@link ApiHandler}) or of KVM (only {@link Machine}).
 */
public final class VmmController {
    static final String APP_NAME = "jkvm";
    public static final String NOT_AFTER_START = "The requested operation is not supported after starting the microVM.";
    public static final String NOT_BEFORE_START = "The requested operation is not supported before starting the microVM.";

    /** Where the exits go with PUT /logger at level Trace. */
    private static final System.Logger EXITS = System.getLogger("io.jkvm.exits");

    private final String id;
    private final IntConsumer serialOut;
    private final Snapshotter snapshotter;
    private final VmResources resources = new VmResources();
    private final LogSink log = new LogSink();
    private final CompletableFuture<RunOutcome> ended = new CompletableFuture<>();
    private Machine machine; // guarded by this; set by InstanceStart
    private MetricsFile metrics; // guarded by this; set by PUT /metrics
    private MachineConfiguration started; // guarded by this; the started machine's vCPUs and memory

    /**
     * @param id        the instance id (GET /)
     * @param serialOut where the guest's serial console goes
     */
    public VmmController(String id, IntConsumer serialOut) {
        this(id, serialOut, Snapshotter.MACHINE);
    }

    /** @param snapshotter what takes and restores snapshots of the machine */
    public VmmController(String id, IntConsumer serialOut, Snapshotter snapshotter) {
        this.id = id;
        this.serialOut = serialOut;
        this.snapshotter = snapshotter;
    }

    public String id() {
        return id;
    }

    /** Completes with the outcome of the run once a started machine has ended (and is closed). */
    public CompletableFuture<RunOutcome> ended() {
        return ended;
    }

    /** Waits until a started machine has ended; a failure of the run itself is rethrown. */
    public RunOutcome awaitEnd() throws InterruptedException {
        try {
            return ended.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("the VM's run failed", e.getCause());
        }
    }

    public synchronized void putBootSource(BootSource source) {
        requireNotStarted();
        resources.setBootSource(source);
    }

    public synchronized void putMachineConfig(MachineConfiguration config) {
        requireNotStarted();
        resources.setMachineConfig(config);
    }

    /** The configuration PUT so far (Firecracker's defaults before any), or the started machine's. */
    public synchronized MachineConfiguration machineConfig() {
        return started == null ? resources.machineConfig() : started;
    }

    public synchronized void putDrive(String driveId, Drive drive) {
        requireNotStarted();
        resources.putDrive(driveId, drive);
    }

    public synchronized void putNetworkInterface(String ifaceId, ApiTypes.NetworkInterface iface) {
        requireNotStarted();
        resources.putNetworkInterface(ifaceId, iface);
    }

    public synchronized void putVsock(ApiTypes.Vsock vsock) {
        requireNotStarted();
        resources.setVsock(vsock);
    }

    /** What InstanceStart would start now (for tests): the pre-boot configuration as a {@link MachineConfig}. */
    synchronized MachineConfig configToStart() {
        return resources.toMachineConfig();
    }

    public synchronized void putLogger(ApiTypes.Logger logger) {
        log.configure(logger, id);
    }

    public synchronized void putMetrics(ApiTypes.Metrics body) {
        if (metrics != null) throw new ApiFault("Reinitialization of metrics not allowed.");
        metrics = MetricsFile.open(body.metricsPath(), this::startedMachine);
        recordLatencies();
    }

    /** With metrics on and a machine started, its vCPUs record handling-time histograms from now on. */
    private void recordLatencies() {
        if (metrics != null && machine != null) machine.exitStats().forEach(ExitStats::latencies);
    }

    private synchronized Machine startedMachine() {
        return machine;
    }

    /**
     * GET /metrics (jkvm's, for {@code jkvm info}; Firecracker only writes them to a file): the counts a
     * metrics line has now, without the latency percentiles, which belong to the metrics file's intervals.
     */
    public synchronized Map<String, Object> metricsNow() {
        return MetricsFile.snapshot(machine, false);
    }

    public synchronized void action(InstanceActionInfo action) {
        switch (action.actionType()) {
            case "InstanceStart" -> start();
            case "SendCtrlAltDel" -> {
                if (!requireStarted().sendCtrlAltDel())
                    throw new ApiFault("The guest has disabled its keyboard: Ctrl-Alt-Del cannot reach it.");
            }
            case "FlushMetrics" -> flushMetrics();
            default -> throw new ApiFault("action_type must be InstanceStart, SendCtrlAltDel or FlushMetrics, not '"
                    + action.actionType() + "'.");
        }
    }

    private void flushMetrics() {
        if (metrics == null) throw new ApiFault("The metrics system is not initialized: PUT /metrics first.");
        try {
            metrics.flush();
        } catch (IOException e) {
            throw new ApiFault("Cannot write the metrics: " + e.getMessage());
        }
    }

    public synchronized void patchVm(Vm vm) {
        Machine m = requireStarted();
        try {
            switch (vm.state()) {
                case "Paused" -> m.pause();
                case "Resumed" -> m.resume();
                default -> throw new ApiFault("state must be Paused or Resumed, not '" + vm.state() + "'.");
            }
        } catch (IllegalStateException e) {
            throw new ApiFault(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiFault("Interrupted while pausing the microVM.");
        }
    }

    public synchronized InstanceInfo describe() {
        return new InstanceInfo(id, stateName(), Version.jkvm(), APP_NAME);
    }

    /** Firecracker's name of the state: "Not started", "Running" or "Paused". */
    private String stateName() {
        if (machine == null) return "Not started";
        return switch (machine.state()) {
            case NOT_STARTED -> "Not started";
            case RUNNING -> "Running";
            case PAUSED -> "Paused";
            case ENDED -> throw new ApiFault("The microVM has ended.");
        };
    }

    /** Stops a started machine (its run then ends with Stopped); nothing to do before the start. */
    public synchronized void stop() {
        if (machine != null) machine.stop();
    }

    /** InstanceStart: the machine the pre-boot configuration describes; bad input is a 400. */
    private void start() {
        requireNotStarted();
        try {
            start(resources.toMachineConfig(), log.tracing() ? VmmController::traceToLog : null);
        } catch (BootException | KvmUnavailableException | IllegalArgumentException | UncheckedIOException e) {
            throw new ApiFault("Cannot start the microVM: " + e.getMessage());
        }
    }

    /**
     * Builds and starts the machine {@code config} describes (what InstanceStart does, for {@code jkvm run}
     * which has its configuration from the command line), with its exits described to {@code exitTrace}
     * (or null: none; InstanceStart traces to the log at level Trace), and returns once its vCPUs run; {@link #ended()}
     * completes when it ends. The machine is closed then. Bad input and a missing /dev/kvm throw what
     * {@link Machine#create} throws; a second start throws an {@link ApiFault}.
     */
    public synchronized Machine start(MachineConfig config, Consumer<String> exitTrace) {
        return startWith(config, serial -> Machine.create(config, serial, exitTrace));
    }

    /**
     * As {@link #start(MachineConfig, Consumer)}, with the machine {@code config} describes made by {@code factory}
     * from the VMM's serial sink ({@code jkvm run --boot-cache} restores it from a snapshot, or boots it watching
     * its console).
     */
    public synchronized Machine startWith(MachineConfig config, Function<IntConsumer, Machine> factory) {
        requireNotStarted();
        return launch(factory.apply(serialOut), config);
    }

    /**
     * PUT /snapshot/create: writes the paused machine's state and memory to the files the body names. The
     * body is checked first, then that the machine is paused, as Firecracker snapshots only a paused VM.
     */
    public synchronized void createSnapshot(ApiTypes.SnapshotCreateParams body) {
        SnapshotRequests.Create files = SnapshotRequests.create(body);
        Machine m = requireStarted();
        if (m.state() != Machine.State.PAUSED)
            throw new ApiFault("Create snapshot is not allowed in state " + stateName() + ": pause the microVM first.");
        try {
            snapshotter.snapshot(m, files.state(), files.memory());
        } catch (IOException | IllegalStateException | UnsupportedOperationException | SnapshotFormatException e) {
            throw new ApiFault("Cannot create the snapshot: " + e.getMessage());
        }
    }

    /** PUT /snapshot/load: only on a VMM with no machine and no boot configuration; the machine runs if resume_vm. */
    public synchronized void loadSnapshot(ApiTypes.SnapshotLoadParams body) {
        requireNotStarted();
        if (resources.configured())
            throw new ApiFault("Loading a microVM snapshot is not allowed after configuring boot-specific resources.");
        SnapshotRequests.Load load = SnapshotRequests.load(body);
        restore(load.state(), load.memory(), load.overrides(), !load.resume(), log.tracing() ? VmmController::traceToLog : null);
    }

    /**
     * Builds the machine saved in {@code stateFile} and {@code memoryFile} and starts it, paused if
     * {@code startPaused} (what PUT /snapshot/load does, and {@code jkvm run --restore}); returns once it
     * runs or is parked. The state file, the memory file's size and the disks are checked before anything
     * is built: every problem is an {@link ApiFault} naming the file.
     */
    public synchronized Machine restore(Path stateFile, Path memoryFile, RestoreOverrides overrides, boolean startPaused,
                                        Consumer<String> exitTrace) {
        requireNotStarted();
        try {
            SavedMachine saved = SavedMachine.read(stateFile);
            saved.checkHostFiles(memoryFile);
            MachineConfig config = saved.shape().toMachineConfig(overrides);
            return launch(snapshotter.restore(saved, config, memoryFile, startPaused, serialOut, exitTrace), config);
        } catch (IOException | SnapshotFormatException | BootException | KvmUnavailableException | IllegalArgumentException
                 | UncheckedIOException | UnsupportedOperationException e) {
            throw new ApiFault("Cannot load the snapshot: " + e.getMessage());
        }
    }

    /** Runs {@code m} on a thread of its own, closes it when it ends, and returns once it has started. */
    private Machine launch(Machine m, MachineConfig config) {
        machine = m;
        started = new MachineConfiguration(config.cpus(), (int) (config.memory() >> 20), false, false, null, null);
        recordLatencies();
        Thread vmm = new Thread(() -> {
            try {
                RunOutcome outcome;
                try (m) {
                    outcome = m.run();
                }
                ended.complete(outcome); // after close: the console output has drained
            } catch (Throwable e) {
                ended.completeExceptionally(e);
            }
        }, "vmm-" + id);
        vmm.start();
        // Return once the vCPUs run (or the run failed at once), as Firecracker's InstanceStart does.
        while (m.state() == Machine.State.NOT_STARTED && !ended.isDone()) Thread.onSpinWait();
        return m;
    }

    private static void traceToLog(String line) {
        EXITS.log(System.Logger.Level.TRACE, line);
    }

    private void requireNotStarted() {
        if (machine != null) throw new ApiFault(NOT_AFTER_START);
    }

    private Machine requireStarted() {
        if (machine == null) throw new ApiFault(NOT_BEFORE_START);
        return machine;
    }
}
