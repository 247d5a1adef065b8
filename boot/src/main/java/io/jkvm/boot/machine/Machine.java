package io.jkvm.boot.machine;

import io.jkvm.boot.Layout;
import io.jkvm.boot.Version;
import io.jkvm.boot.agent.ExecResult;
import io.jkvm.boot.agent.GuestAgent;
import io.jkvm.boot.acpi.AcpiPlatform;
import io.jkvm.boot.acpi.AcpiTables;
import io.jkvm.boot.acpi.PmProfile;
import io.jkvm.boot.acpi.VirtioMmioWindow;
import io.jkvm.boot.cpu.BootCpu;
import io.jkvm.boot.loader.BootConfigException;
import io.jkvm.boot.loader.BootRequest;
import io.jkvm.boot.loader.KernelLoader;
import io.jkvm.boot.loader.LoadedKernel;
import io.jkvm.boot.loader.MemorySize;
import io.jkvm.boot.mptable.MpTable;
import io.jkvm.boot.snapshot.MachineShape;
import io.jkvm.boot.snapshot.SavedMachine;
import io.jkvm.bus.Bus;
import io.jkvm.devices.DeviceCounters;
import io.jkvm.devices.acpi.AcpiPowerDevice;
import io.jkvm.devices.legacy.CmosRtc;
import io.jkvm.devices.legacy.I8042;
import io.jkvm.devices.legacy.PostCodePort;
import io.jkvm.devices.legacy.Uart16550;
import io.jkvm.devices.virtio.MmioTransport;
import io.jkvm.devices.virtio.VirtioDevice;
import io.jkvm.devices.virtio.block.VirtioBlock;
import io.jkvm.devices.virtio.net.VirtioNet;
import io.jkvm.devices.virtio.rng.VirtioRng;
import io.jkvm.devices.virtio.vsock.VirtioVsock;
import io.jkvm.io.EventFd;
import io.jkvm.io.Tap;
import io.jkvm.io.NonBlockingOutput;
import io.jkvm.kvm.ExitStats;
import io.jkvm.kvm.Kvm;
import io.jkvm.kvm.RunOutcome;
import io.jkvm.kvm.Vcpu;
import io.jkvm.kvm.VcpuRunner;
import io.jkvm.kvm.VcpuState;
import io.jkvm.kvm.Vm;
import io.jkvm.kvm.VmState;
import io.jkvm.kvm.sys.NativeException;
import io.jkvm.memory.GuestMemory;
import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateFile;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import io.jkvm.snapshot.Stateful;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * One assembled VM: KVM objects, guest RAM, the legacy PC devices, virtio-mmio devices, ACPI tables, the
 * kernel and one runner per vCPU. {@link #create} builds everything (and on failure releases what it
 * built); {@link #run} starts the vCPUs and blocks until the guest powers off, resets, crashes or
 * {@link #stop} is called. Every fd and mapping is closed, in reverse order of creation, by {@link #close}.
 *
 * <p><b>Pause and resume.</b> {@link #pause} takes every vCPU out of KVM_RUN and parks its thread, then
 * lets the virtio devices finish the requests in flight and take no new ones; a paused machine uses no
 * CPU. {@link #resume} lets the devices and then the vCPUs go on. Pausing a paused machine and resuming a
 * running one change nothing; {@link #stop} ends a paused machine as a running one.
 *
 * <p><b>The guest's time across a pause</b> (as on Firecracker, which does not adjust the clock either):
 * the TSC and kvmclock are host time and keep counting, so after a resume the guest's CLOCK_MONOTONIC and
 * wall clock have moved on by the length of the pause, timers due meanwhile fire at once, and the CMOS RTC
 * reads host time as always. Each parked vCPU tells a kvmclock guest it was paused (KVM_KVMCLOCK_CTRL), so
 * Linux's soft-lockup watchdog does not report the gap.
 *
 * <p><b>Snapshot and restore.</b> {@link #snapshot} saves a paused machine to two files, as Firecracker does:
 * guest RAM (raw, {@link GuestMemory#saveTo}) and the state ({@link StateFile}): the machine's shape
 * ({@link MachineShape}), then one section per part in {@link #stateParts} order: the VM (irqchips, PIT,
 * kvmclock), each vCPU, the legacy devices, each virtio transport with its queues and device.
 * {@link #restore} builds the same machine without loading a kernel, maps the RAM file private
 * (copy-on-write: restoring takes the same time for any RAM size), and reads every section back before any
 * vCPU runs; the guest then goes on where it was paused, its clocks running on from the snapshot.
 */
public final class Machine implements AutoCloseable {
    /** ISA IRQs of the i8042's keyboard and mouse ports. */
    private static final int I8042_KBD_IRQ = 1, I8042_AUX_IRQ = 12;
    /**
     * Guest console output held for a host console that falls behind: far more than a boot prints, so only
     * a console nobody reads loses bytes.
     */
    private static final int CONSOLE_BUFFER = 1 << 20;
    /** How long closing the machine waits for the host console to take the last of the guest's output. */
    private static final long CONSOLE_CLOSE_MILLIS = 500;
    /** Tells an ACPI kernel that this machine has no tables, rather than have it search and complain. */
    private static final String NO_ACPI = "acpi=off";
    /** How long {@link #pause} waits for a vCPU to park: an exit being handled (a disk flush, say) finishes first. */
    public static final long PAUSE_TIMEOUT_MILLIS = 10_000;
    /** How long {@link #exec} waits for the guest agent to accept (it starts late in a booting guest). */
    private static final Duration AGENT_WAIT = Duration.ofSeconds(60);

    private final Deque<AutoCloseable> owned;
    private final MachineConfig config;
    private final Vm vm;
    private final GuestMemory memory;
    private final List<Vcpu> vcpus;
    private final CmosRtc rtc;
    private final PostCodePort postCodes;
    private final boolean startPaused;
    private final Uart16550 uart;
    private final NonBlockingOutput consoleOut;
    private final List<MmioTransport> transports;
    private final List<VcpuRunner> runners;
    private final LoadedKernel kernel;
    private final String cmdline;
    private final CompletableFuture<RunOutcome> end;
    private final BootTimeline timeline;
    private final I8042 i8042;
    private final Optional<GuestAgent> agent;
    private final Bus pio;
    private final Bus mmio;
    private final Map<String, DeviceCounters> counted;
    /** Guards {@link #running}, {@link #ran} and {@link #released}: {@link #close} waits for {@link #run} to return. */
    private final Object lifecycle = new Object();
    private boolean running;
    private boolean ran;
    private boolean released;
    /** Serializes {@link #pause} and {@link #resume}; guards {@link #paused}. Never taken by a vCPU thread. */
    private final Object pausing = new Object();
    private boolean paused;

    private Machine(Builder b) {
        this.owned = b.owned;
        this.config = b.config;
        this.vm = b.vm;
        this.memory = b.memory;
        this.vcpus = b.vcpus;
        this.rtc = b.rtc;
        this.postCodes = b.postCodes;
        this.startPaused = b.startPaused;
        this.uart = b.uart;
        this.consoleOut = b.consoleOut;
        this.transports = b.transports;
        this.runners = b.runners;
        this.kernel = b.kernel;
        this.cmdline = b.cmdline;
        this.end = b.end;
        this.timeline = b.timeline;
        this.i8042 = b.i8042;
        this.agent = b.agent;
        this.pio = b.pio;
        this.mmio = b.mmio;
        this.counted = b.counted;
    }

    /** Where a machine is in its life. */
    public enum State {
        /** Created, {@link #run} not called yet. */
        NOT_STARTED,
        RUNNING,
        PAUSED,
        /** {@link #run} has returned. */
        ENDED
    }

    /**
     * Builds the VM described by {@code config}; the guest's serial output goes to {@code serialOut}, on a
     * thread of its own: it may block (a terminal nobody reads) without stopping a vCPU; what it has not
     * taken when the buffer of {@value #CONSOLE_BUFFER} bytes is full is dropped ({@link #droppedConsoleBytes}).
     *
     * @throws io.jkvm.kvm.KvmUnavailableException    /dev/kvm missing, not permitted or not KVM API 12
     * @throws io.jkvm.boot.loader.BootException       bad kernel, initrd, command line, memory or vCPU count
     * @throws UncheckedIOException                    a disk image that cannot be opened (message names it)
     * @throws io.jkvm.boot.loader.BootConfigException a TAP that cannot be opened or attached (one line naming it)
     */
    public static Machine create(MachineConfig config, IntConsumer serialOut) {
        return create(config, serialOut, null);
    }

    /**
     * As {@link #create(MachineConfig, IntConsumer)}, with every VM exit described in words to {@code exitTrace}
     * ({@code --trace-exits}; called from every vCPU thread, so it must be thread-safe), or null for none.
     */
    public static Machine create(MachineConfig config, IntConsumer serialOut, Consumer<String> exitTrace) {
        return assemble(new Builder(config, exitTrace), serialOut);
    }

    /**
     * Builds the machine {@code saved} describes, as {@code config} (the saved one, or it with the host ends
     * replaced: {@link MachineShape#toMachineConfig}), with guest RAM mapped private from {@code memoryFile}
     * and every vCPU, VM and device state read back from the snapshot; no kernel is loaded. The caller checks
     * the host files first ({@link SavedMachine#checkHostFiles}). {@link #run} starts it paused if
     * {@code startPaused} (go on with {@link #resume}), else running.
     *
     * @throws SnapshotFormatException a section is invalid or KVM refused it; nothing of the machine is left
     * @throws UncheckedIOException    the memory file cannot be mapped (the message names it)
     */
    public static Machine restore(SavedMachine saved, MachineConfig config, Path memoryFile, boolean startPaused,
                                  IntConsumer serialOut, Consumer<String> exitTrace) {
        Builder b = new Builder(config, exitTrace);
        b.savedMemory = memoryFile;
        b.startPaused = startPaused;
        return assemble(b, serialOut, machine -> machine.restoreSections(saved.sections()));
    }

    private static Machine assemble(Builder b, IntConsumer serialOut) {
        return assemble(b, serialOut, machine -> {
        });
    }

    /** Builds, then {@code finish}es the new machine; on any failure everything built so far is closed. */
    private static Machine assemble(Builder b, IntConsumer serialOut, Consumer<Machine> finish) {
        try {
            b.build(b.timeline.watching(serialOut));
            b.machine = new Machine(b);
            finish.accept(b.machine);
            b.transports.forEach(MmioTransport::start);
            b.timeline.mark("VM created");
            return b.machine;
        } catch (RuntimeException | Error e) {
            closeAll(b.owned, e);
            throw e;
        }
    }

    /**
     * Saves this paused machine: its RAM to {@code memoryFile}, then its state to {@code stateFile} (each
     * written under a temporary name and renamed into place, so a file is whole or absent). The machine stays
     * paused. Disks are the user's: the state records their paths and sizes, not their contents.
     *
     * @throws IllegalStateException the machine is not paused
     * @throws IOException           a file cannot be written (the message names it)
     */
    public void snapshot(Path stateFile, Path memoryFile) throws IOException {
        synchronized (pausing) {
            if (state() != State.PAUSED)
                throw new IllegalStateException("only a paused machine can be snapshotted; this one is " + state());
            StateWriter out = new StateWriter();
            MachineShape.of(config).write(out);
            for (NamedState part : stateParts()) out.section(part.name(), part.state());
            memory.saveTo(memoryFile);
            StateFile.write(stateFile, Version.jkvm(), out.toByteArray());
        }
    }

    /** Reads every part's section back, in {@link #stateParts} order; nothing may be left over. */
    private void restoreSections(StateReader in) {
        for (NamedState part : stateParts()) in.section(part.name(), part.state());
        if (!in.atEnd()) throw new SnapshotFormatException("the state has more sections than this machine has parts");
    }

    /** One part of the machine's state and the name of its section in the state file. */
    private record NamedState(String name, Stateful state) {
    }

    /**
     * The parts of the machine's state in file order: the VM's interrupt controllers first, which the devices'
     * restored interrupt lines then drive, and the vCPUs before the devices, as Firecracker restores them.
     */
    private List<NamedState> stateParts() {
        List<NamedState> parts = new ArrayList<>();
        parts.add(new NamedState("vm", new VmState(vm)));
        for (Vcpu vcpu : vcpus) parts.add(new NamedState("vcpu" + vcpu.id(), new VcpuState(vcpu)));
        parts.add(new NamedState("uart", uart));
        parts.add(new NamedState("i8042", i8042));
        parts.add(new NamedState("rtc", rtc));
        parts.add(new NamedState("post-code", postCodes));
        for (int i = 0; i < transports.size(); i++) parts.add(new NamedState("virtio" + i, transports.get(i)));
        return parts;
    }

    /** The command line the kernel was given, with jkvm's additions. */
    public String cmdline() {
        return cmdline;
    }

    /** The kernel loaded into guest RAM; empty for a restored machine, whose RAM came from a snapshot. */
    public Optional<LoadedKernel> kernel() {
        return Optional.ofNullable(kernel);
    }

    /** Feeds bytes to COM1's receiver, waiting while its FIFO is full (as a real serial line would). */
    public void sendInput(int b) {
        try {
            while (!uart.receive((byte) b)) {
                if (end.isDone()) return;
                uart.awaitReceiveSpace(50, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Runs {@code argv} in the guest through its agent (guests/agent, started by jkvm's initramfs on a machine
     * with a vsock device) and returns its exit status and output; waits for the agent if the guest is booting.
     *
     * @throws IllegalStateException the machine has no vsock device
     * @throws IOException no agent answered within a minute, or the session broke off
     */
    public ExecResult exec(List<String> argv) throws IOException, InterruptedException {
        return agent().exec(argv);
    }

    /**
     * {@link #exec(List)} with environment {@code env} (empty: the agent's), {@code stdin} fed to the command
     * and its output streamed as it comes; returns its status.
     */
    public int exec(List<String> argv, Map<String, String> env, InputStream stdin, OutputStream stdout,
                    OutputStream stderr) throws IOException, InterruptedException {
        return agent().exec(argv, env, stdin, stdout, stderr);
    }

    private GuestAgent agent() {
        return agent.orElseThrow(() -> new IllegalStateException("exec needs a vsock device (--vsock)"));
    }

    /** Runs the guest on one platform thread per vCPU until it ends, and returns how it ended. */
    public RunOutcome run() throws InterruptedException {
        synchronized (lifecycle) {
            if (released || running || ran) throw new IllegalStateException("machine already ran or is closed");
            running = true;
        }
        if (startPaused) {
            synchronized (pausing) {
                runners.forEach(VcpuRunner::pause);
                transports.forEach(MmioTransport::pause);
                paused = true;
            }
        }
        try {
            return runVcpus();
        } finally {
            synchronized (lifecycle) {
                running = false;
                ran = true;
                lifecycle.notifyAll();
            }
        }
    }

    public State state() {
        synchronized (lifecycle) {
            if (ran || released) return State.ENDED;
            if (!running) return State.NOT_STARTED;
        }
        synchronized (pausing) {
            return paused ? State.PAUSED : State.RUNNING;
        }
    }

    /**
     * Pauses a running machine and returns once every vCPU has parked and no device request is in flight;
     * pausing a paused machine changes nothing.
     *
     * @throws IllegalStateException the machine is not running (not started, or ended), or a vCPU did not
     *                               leave KVM_RUN within {@link #PAUSE_TIMEOUT_MILLIS}
     */
    public void pause() throws InterruptedException {
        synchronized (pausing) {
            requireRunning("pause");
            if (paused) return;
            runners.forEach(VcpuRunner::pause);
            for (int id = 0; id < runners.size(); id++)
                if (!runners.get(id).awaitParked(PAUSE_TIMEOUT_MILLIS))
                    throw new IllegalStateException("vcpu " + id + " did not leave KVM_RUN within " + PAUSE_TIMEOUT_MILLIS + " ms");
            transports.forEach(MmioTransport::pause);
            paused = true;
        }
    }

    /** Lets a paused machine go on: devices first, then the vCPUs. Resuming a running machine changes nothing. */
    public void resume() {
        synchronized (pausing) {
            requireRunning("resume");
            if (!paused) return;
            transports.forEach(MmioTransport::resume);
            runners.forEach(VcpuRunner::resume);
            paused = false;
        }
    }

    /**
     * Presses Ctrl-Alt-Del on the guest's PS/2 keyboard: a guest that handles it (Linux with atkbd) reboots,
     * which ends {@link #run} with Reset. Returns false if the guest has not enabled its keyboard.
     *
     * @throws IllegalStateException the machine is not running
     */
    public boolean sendCtrlAltDel() {
        requireRunning("send Ctrl-Alt-Del to");
        return i8042.pressCtrlAltDel();
    }

    private void requireRunning(String action) {
        State now;
        synchronized (lifecycle) {
            now = running ? State.RUNNING : ran || released ? State.ENDED : State.NOT_STARTED;
        }
        if (now != State.RUNNING)
            throw new IllegalStateException("cannot " + action + " a machine that " + (now == State.NOT_STARTED ? "has not started" : "has ended"));
    }

    private RunOutcome runVcpus() throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        timeline.mark("vCPUs started");
        for (int id = 0; id < runners.size(); id++) {
            VcpuRunner r = runners.get(id);
            Thread t = new Thread(() -> {
                try {
                    end.complete(r.run());
                } catch (Throwable e) {
                    end.completeExceptionally(e);
                }
            }, "vcpu-" + id);
            threads.add(t);
            t.start();
        }
        RunOutcome outcome;
        try {
            outcome = end.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("vCPU thread failed", e.getCause());
        } finally {
            runners.forEach(VcpuRunner::stop);
            for (Thread t : threads) t.join();
        }
        return outcome;
    }

    /** Ends the run from the host: every vCPU leaves KVM_RUN, even a halted one; {@link #run} returns Stopped. */
    public void stop() {
        finish(RunOutcome.STOPPED);
    }

    /** Records the outcome and kicks every vCPU out of KVM_RUN; nothing to kick once the vCPUs are closed. */
    private void finish(RunOutcome outcome) {
        end.complete(outcome);
        synchronized (lifecycle) {
            if (!released) runners.forEach(VcpuRunner::stop);
        }
    }

    /** Wall-clock marks of the boot so far (JVM start, VM created, first serial byte, kernel and init lines). */
    public BootTimeline bootTimeline() {
        return timeline;
    }

    /** Guest console bytes the host console did not take in time: final after {@link #close}. */
    public long droppedConsoleBytes() {
        return consoleOut.dropped();
    }

    /** Exit statistics per vCPU, complete after {@link #run} returned. */
    public List<ExitStats> exitStats() {
        return runners.stream().map(VcpuRunner::stats).toList();
    }

    /**
     * The PIO and MMIO exits of one vCPU ({@code stats}, one of {@link #exitStats()}) per device, named as
     * exit traces name them: {@code uart}, {@code virtio-blk@0xd0000000}.
     */
    public Map<String, Long> exitsPerDevice(ExitStats stats) {
        return stats.exitsPerDevice(pio, mmio);
    }

    /**
     * What each counting device has counted so far ({@link DeviceCounters}), by the name exit traces give it:
     * {@code uart}, then the virtio devices in window order ({@code virtio-blk@0xd0000000}, ...).
     */
    public Map<String, Map<String, Long>> deviceCounters() {
        Map<String, Map<String, Long>> m = new LinkedHashMap<>();
        counted.forEach((name, device) -> m.put(name, device.counters()));
        return m;
    }

    /**
     * Stops the guest, waits until {@link #run} (on whatever thread) has returned, then closes every fd
     * and mapping: a vCPU's kvm_run page must not be unmapped while its runner can still touch it.
     */
    @Override
    public void close() {
        finish(RunOutcome.STOPPED);
        boolean interrupted = false;
        synchronized (lifecycle) {
            if (released) return;
            while (running) {
                try {
                    lifecycle.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            released = true;
        }
        closeAll(owned, null);
        if (interrupted) Thread.currentThread().interrupt();
    }

    private static void closeAll(Deque<AutoCloseable> owned, Throwable primary) {
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                if (primary != null) primary.addSuppressed(e);
            }
        }
    }

    /** The construction steps, in the order KVM needs them; everything opened is pushed on {@code owned}. */
    private static final class Builder {
        final MachineConfig config;
        final Deque<AutoCloseable> owned = new ArrayDeque<>();
        final CompletableFuture<RunOutcome> end = new CompletableFuture<>();
        final BootTimeline timeline = new BootTimeline();
        final Bus pio = new Bus("pio");
        final Bus mmio = new Bus("mmio");
        final List<MmioTransport> transports = new ArrayList<>();
        final List<VcpuRunner> runners = new ArrayList<>();
        final List<Vcpu> vcpus = new ArrayList<>();
        /** The RAM file of a snapshot being restored; null for a boot. */
        Path savedMemory;
        boolean startPaused;
        Vm vm;
        GuestMemory memory;
        CmosRtc rtc;
        PostCodePort postCodes;
        final Map<String, DeviceCounters> counted = new LinkedHashMap<>();
        Uart16550 uart;
        I8042 i8042;
        Consumer<String> exitTrace;
        NonBlockingOutput consoleOut;
        LoadedKernel kernel;
        Machine machine;
        String cmdline;
        Optional<GuestAgent> agent = Optional.empty();

        Builder(MachineConfig config, Consumer<String> exitTrace) {
            this.config = config;
            this.exitTrace = exitTrace;
        }

        private <T extends AutoCloseable> T own(T resource) {
            owned.push(resource);
            return resource;
        }

        /**
         * Everything that only needs guest memory (disks, ACPI tables, the kernel) comes first, so bad input
         * is reported before /dev/kvm is even opened; then the KVM objects, devices and vCPUs. A restore
         * skips what the saved RAM already holds (tables, kernel) and the boot CPU state.
         */
        void build(IntConsumer serialOut) {
            boolean restoring = savedMemory != null;
            memory = own(restoring ? mapSavedRam(savedMemory, config.memory()) : allocateRam(config.memory()));
            List<VirtioDevice> devices = openVirtioDevices(config);
            List<VirtioMmioWindow> windows = new ArrayList<>();
            for (int i = 0; i < devices.size(); i++) windows.add(Layout.virtioMmio(i));
            boolean pvm = Kvm.isPvm() || config.forcePvmQuirks();
            cmdline = KernelCmdline.compose(config.cmdline(), machineCmdline(pvm, windows));
            if (!restoring) writeFirmwareAndKernel(windows);

            Kvm kvm = own(Kvm.open());
            if (config.cpus() > kvm.maxVcpus())
                throw new BootConfigException("--cpus " + config.cpus() + " is above this KVM's maximum of " + kvm.maxVcpus());
            vm = own(kvm.createVm());
            // api.rst: KVM_SET_TSS_ADDR and the identity map go in an unused 3 pages below 4 GiB; the
            // irqchip must exist before any vCPU, PIT2 after the irqchip.
            vm.setTssAddress(Layout.KVM_TSS);
            vm.setIdentityMapAddress(Layout.KVM_IDENTITY_MAP);
            vm.createIrqchip();
            vm.createPit2();
            try {
                vm.mapMemory(memory);
            } catch (NativeException e) {
                throw new BootConfigException("KVM refused " + MemorySize.format(memory.size()) + " of guest RAM: " + e.getMessage());
            }
            addLegacyDevices(vm, serialOut);
            for (int i = 0; i < devices.size(); i++) addVirtioDevice(vm, memory, devices.get(i), windows.get(i));

            BootCpu boot = new BootCpu(kvm.supportedCpuid(), pvm);
            if (!restoring) boot.writeTables(memory, kernel.entryKind());
            for (int id = 0; id < config.cpus(); id++) {
                Vcpu vcpu = own(vm.createVcpu(id));
                // A restored vCPU gets its state from the snapshot instead (Machine.restoreSections).
                if (!restoring && id == 0)
                    boot.applyBootProcessor(vcpu, kernel.entryKind(), kernel.entryAddress(), kernel.bootInfoAddress());
                else if (!restoring) boot.applyApplicationProcessor(vcpu);
                vcpus.add(vcpu);
                runners.add(new VcpuRunner(vcpu, pio, mmio, pvm, exitTrace));
            }
        }

        /**
         * The firmware tables (MP table, ACPI) and the kernel, written into fresh guest RAM. The MP table is
         * always there, so that acpi=off (or a kernel without ACPI) still finds every vCPU; a kernel with ACPI
         * prefers the MADT.
         */
        private void writeFirmwareAndKernel(List<VirtioMmioWindow> windows) {
            MpTable.write(memory, Layout.MP_FLOATING_POINTER, Layout.MP_CONFIG_TABLE, config.cpus(),
                    Layout.LAPIC_BASE, Layout.IOAPIC_ID, Layout.IOAPIC_BASE);
            BootRequest request = BootRequest.of(config.kernel(), config.initrd(), cmdline);
            if (config.discovery() == MachineConfig.VirtioDiscovery.ACPI) {
                AcpiTables.Placement acpi = AcpiTables.write(memory, Layout.ACPI_RSDP, Layout.ACPI_TABLES_START,
                        new AcpiPlatform(config.cpus(), windows, Layout.ACPI_POWER_PORT, List.of(), true, true, true,
                                PmProfile.UNSPECIFIED));
                request = request.withAcpiRsdp(acpi.rsdpAddress());
            }
            kernel = KernelLoader.load(memory, request);
        }

        /** What jkvm adds to the kernel command line: the PVM switches, and the devices where ACPI does not list them. */
        private List<String> machineCmdline(boolean pvm, List<VirtioMmioWindow> windows) {
            List<String> items = new ArrayList<>();
            if (pvm) items.addAll(PvmQuirks.KERNEL_SWITCHES);
            if (config.discovery() == MachineConfig.VirtioDiscovery.CMDLINE) {
                items.add(NO_ACPI);
                windows.forEach(w -> items.add(MmioTransport.kernelCommandLineDevice(w.base(), w.gsi())));
            }
            return items;
        }

        /** Guest RAM from a snapshot's memory file, mapped private (copy-on-write) in the layout of {@code bytes}. */
        private static GuestMemory mapSavedRam(Path file, long bytes) {
            try {
                return GuestMemory.mapPrivate(file, Layout.ramRanges(bytes));
            } catch (IOException e) {
                throw new UncheckedIOException("guest memory file " + file + ": " + e.getMessage(), e);
            }
        }

        /** Guest RAM of {@code bytes}: within KVM's slot limit ({@link Layout#ramRanges}) and this host's RAM. */
        private static GuestMemory allocateRam(long bytes) {
            List<GuestMemory.Range> ranges = Layout.ramRanges(bytes);
            long host = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                    .getTotalMemorySize();
            if (bytes > host)
                throw new BootConfigException("--memory " + MemorySize.format(bytes) + " is more than this host's "
                        + MemorySize.format(host) + " of RAM");
            try {
                return GuestMemory.allocate(ranges);
            } catch (NativeException e) {
                throw new BootConfigException("cannot map " + MemorySize.format(bytes) + " of guest RAM: " + e.getMessage());
            }
        }

        private void addLegacyDevices(Vm vm, IntConsumer serialOut) {
            // The UART transmits on a vCPU thread with its lock held: it must never wait for the host console.
            consoleOut = own(new NonBlockingOutput("jkvm-console-out", CONSOLE_BUFFER, CONSOLE_CLOSE_MILLIS, serialOut));
            uart = new Uart16550(vm.interruptLine(Layout.COM1_IRQ), consoleOut);
            pio.register(Layout.COM1_PORT, Uart16550.PORT_COUNT, uart);
            counted.put(uart.name(), uart);
            i8042 = new I8042(vm.interruptLine(I8042_KBD_IRQ), vm.interruptLine(I8042_AUX_IRQ),
                    () -> finishFromDevice(RunOutcome.RESET));
            pio.register(Layout.I8042_DATA_PORT, 1, i8042.dataPort());
            pio.register(Layout.I8042_COMMAND_PORT, 1, i8042.commandPort());
            rtc = new CmosRtc(Clock.systemUTC());
            pio.register(Layout.CMOS_RTC_PORT, CmosRtc.PORT_COUNT, rtc);
            postCodes = new PostCodePort();
            pio.register(Layout.POST_CODE_PORT, 1, postCodes);
            pio.register(Layout.ACPI_POWER_PORT, AcpiPowerDevice.LENGTH, new AcpiPowerDevice(
                    () -> finishFromDevice(RunOutcome.POWEROFF), () -> finishFromDevice(RunOutcome.RESET)));
        }

        /**
         * A device ended the machine (reset line, ACPI power-off). Devices act only while the machine
         * runs, so {@link #machine} is set by then.
         */
        private void finishFromDevice(RunOutcome outcome) {
            machine.finish(outcome);
        }

        /** The virtio devices in window order: the disks, the network cards, the entropy source, the socket device. */
        private List<VirtioDevice> openVirtioDevices(MachineConfig config) {
            List<VirtioDevice> devices = new ArrayList<>();
            for (DiskSpec disk : config.disks()) {
                try {
                    VirtioBlock block = VirtioBlock.open(disk.path(), disk.readOnly(), disk.id().orElse(""));
                    owned.push(block::close); // idempotent; the transport closes it too
                    devices.add(block);
                } catch (IOException e) {
                    throw new BootConfigException("--disk: " + e.getMessage());
                }
            }
            for (NetSpec net : config.nets()) {
                try {
                    Tap tap = own(Tap.open(net.tap()));
                    devices.add(new VirtioNet(tap, net.mac(), net.mtu(), net.label()));
                } catch (IOException e) {
                    throw new BootConfigException("--net " + net.label() + ": " + e.getMessage());
                }
            }
            if (config.rng()) devices.add(new VirtioRng());
            config.vsock().ifPresent(vsock -> devices.add(openVsock(vsock)));
            return devices;
        }

        private VirtioVsock openVsock(VsockSpec vsock) {
            try {
                VirtioVsock device = VirtioVsock.open(vsock.cid(), vsock.uds());
                owned.push(device::close); // idempotent; the transport closes it too
                agent = Optional.of(new GuestAgent(vsock.uds(), AGENT_WAIT));
                return device;
            } catch (IOException e) {
                throw new BootConfigException("--vsock: " + e.getMessage());
            }
        }

        private void addVirtioDevice(Vm vm, GuestMemory memory, VirtioDevice device, VirtioMmioWindow w) {
            EventFd irq = own(new EventFd());
            vm.registerIrqfd(irq, w.gsi());
            MmioTransport transport = own(new MmioTransport(device, memory, new IrqfdLine(irq)));
            mmio.register(w.base(), w.size(), transport);
            counted.put(mmio.find(w.base()).nameAtBase(), device);
            // virtio 1.2 §4.2.2: QueueNotify takes the queue index; an ioeventfd per queue keeps the
            // notification in the kernel (no exit to userspace).
            for (int q = 0; q < transport.queueCount(); q++)
                vm.registerIoeventfd(transport.notifyEventFd(q), w.base() + MmioTransport.QUEUE_NOTIFY_OFFSET,
                        4, false, OptionalLong.of(q));
            transports.add(transport);
        }
    }
}
