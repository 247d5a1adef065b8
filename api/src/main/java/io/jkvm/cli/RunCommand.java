package io.jkvm.cli;

import io.jkvm.api.RuntimeRegistry;
import io.jkvm.api.VmmController;
import io.jkvm.boot.cache.BootCache;
import io.jkvm.boot.cache.BootCacheStore;
import io.jkvm.boot.loader.MemorySize;
import io.jkvm.boot.machine.DiskSpec;
import io.jkvm.boot.machine.KernelCmdline;
import io.jkvm.boot.machine.Machine;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.machine.MachineConfig.VirtioDiscovery;
import io.jkvm.boot.machine.NetSpec;
import io.jkvm.boot.machine.VsockSpec;
import io.jkvm.boot.snapshot.RestoreOverrides;
import io.jkvm.boot.snapshot.Snapshotter;
import io.jkvm.kvm.ExitStats;
import io.jkvm.kvm.RunOutcome;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jkvm run}: boots a kernel, or restores a snapshot, with the serial console on this terminal. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Boots a Linux kernel (bzImage or ELF vmlinux), or restores a snapshot (--restore), with COM1 on this terminal.",
                "Ctrl-A x quits; Ctrl-A Ctrl-A sends Ctrl-A. Exit code 0 when the guest powers off or reboots,",
                "2 for bad input, 3 when the guest crashes, 1 when jkvm itself fails."})
final class RunCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    /** The options that describe a machine to boot: a restore takes its machine from the snapshot instead. */
    private static final List<String> BOOT_OPTIONS = List.of("--kernel", "--initrd", "--cmdline", "--memory", "--cpus",
            "--disk", "--net", "--no-rng", "--vsock", "--virtio-discovery", "--pvm-quirks", "--boot-cache");

    @Option(names = "--kernel", paramLabel = "FILE", description = "bzImage or ELF vmlinux (required unless --restore)")
    Path kernel;

    @Option(names = "--restore", paramLabel = "FILE", description = "restore the VM of this snapshot state file"
            + " (jkvm snapshot writes it) instead of booting; needs --memory-file")
    Path restore;

    @Option(names = "--memory-file", paramLabel = "FILE", description = "the snapshot's guest memory file, with --restore")
    Path memoryFile;

    @Option(names = "--paused", description = "with --restore: the restored VM stays paused until jkvm resume ID")
    boolean paused;

    @Option(names = "--initrd", paramLabel = "FILE", description = "initramfs (an uncompressed cpio boots fastest)")
    Path initrd;

    @Option(names = "--cmdline", paramLabel = "TEXT",
            description = "kernel command line (default: \"${DEFAULT-VALUE}\"); words after -- go to init")
    String cmdline = MachineConfig.DEFAULT_CMDLINE;

    @Option(names = "--memory", paramLabel = "SIZE", description = "guest RAM, e.g. 256M, 1G (default: ${DEFAULT-VALUE})")
    String memory = "256M";

    @Option(names = "--cpus", paramLabel = "N", description = "vCPUs, 1 to KVM's maximum (default: ${DEFAULT-VALUE})")
    int cpus = 1;

    @Option(names = "--disk", paramLabel = "PATH[,readonly][,id=NAME]",
            description = "a raw disk image as a virtio-blk device; repeatable")
    List<String> disks = new ArrayList<>();

    @Option(names = "--net", paramLabel = "tap=NAME[,mac=02:..][,mtu=N][,id=ID]",
            description = "a virtio-net device over the TAP NAME (created if absent: needs CAP_NET_ADMIN); repeatable")
    List<String> nets = new ArrayList<>();

    @Option(names = "--no-rng", description = "no virtio-rng device")
    boolean noRng;

    @Option(names = "--vsock", paramLabel = "cid=N,uds=PATH",
            description = "a virtio-vsock device, guest CID N >= 3; host programs reach guest port P with"
                    + " 'CONNECT P' on the Unix socket PATH, the guest reaches host port P at PATH_P")
    String vsock;

    @Option(names = "--virtio-discovery", paramLabel = "acpi|cmdline",
            description = "how the guest finds virtio-mmio devices: ACPI DSDT entries (default) or"
                    + " virtio_mmio.device= on the command line")
    String discovery = "acpi";

    @Option(names = "--pvm-quirks", description = "apply the PVM quirk set even where /dev/kvm is not PVM"
            + " (to test it on VT-x/SVM or nested KVM; also JKVM_FORCE_PVM_QUIRKS=1)")
    boolean pvmQuirks;

    @Option(names = "--api-sock", paramLabel = "PATH",
            description = "serve Firecracker's API (pause, resume, Ctrl-Alt-Del, metrics) on this Unix socket"
                    + " (default: ID.sock in the runtime directory, $XDG_RUNTIME_DIR/jkvm or /run/jkvm)")
    Path apiSock;

    @Mixin IdOption id;

    @Option(names = "--trace-exits", arity = "0..1", paramLabel = "FILE", fallbackValue = "-",
            description = "describe every VM exit in one line, to FILE or (without one) to stderr:"
                    + " vcpu0 IO out 0x3f8 ← 0x41 'A' → Uart16550@0x3f8 +0x0")
    String traceExits;

    @Option(names = "--exit-stats", description = "print VM exit counts and times per reason, port and MMIO address at exit")
    boolean exitStats;

    @Option(names = "--boot-timeline", description = "print wall-clock marks of the boot at exit: JVM start, VM"
            + " created, first serial byte, the kernel's initramfs and init messages (not shown with quiet), init's first line")
    boolean bootTimeline;

    @Option(names = "--boot-cache", arity = "0..1", paramLabel = "DIR", fallbackValue = "",
            description = "start from a snapshot of this kernel, initramfs, command line and machine booted until init"
                    + " waits for its command, made by the first such run and kept in DIR (default:"
                    + " $XDG_CACHE_HOME/jkvm/boot-cache or ~/.cache/jkvm/boot-cache); the command after -- is typed on"
                    + " the console, with the host's time; needs jkvm's initramfs")
    String bootCache;

    @Override
    public Integer call() throws Exception {
        boolean restoring = checkRestoreOptions();
        MachineConfig config = restoring ? null : bootConfig();
        String vmId = id.resolve();
        RuntimeRegistry registry = RuntimeRegistry.fromEnvironment();
        PrintWriter err = spec.commandLine().getErr();
        try (HostConsole console = HostConsole.open(); PrintStream trace = openTrace()) {
            VmmController vmm = new VmmController(vmId, console::write);
            try (ControlPlane plane = ControlPlane.open(registry, vmId, apiSock == null ? registry.defaultSocket(vmId) : apiSock, vmm)) {
                Consumer<String> exitTrace = trace == null ? null : trace::println;
                AtomicReference<BootCache.Start> cached = new AtomicReference<>();
                Machine machine = restoring ? vmm.restore(restore, memoryFile, RestoreOverrides.NONE, paused, exitTrace)
                        : bootCache == null ? vmm.start(config, exitTrace)
                        : vmm.startWith(config, serial -> startCached(cached, config, serial, exitTrace, err));
                err.println("jkvm: VM " + vmId + ", API on " + plane.socket());
                console.startInput(machine::sendInput, machine::stop);
                RunOutcome outcome = vmm.awaitEnd();
                if (cached.get() != null) cached.get().awaitCacheWritten();
                return report(machine, outcome, err);
            }
        }
    }

    /**
     * Whether this run restores a snapshot: --restore and --memory-file together, existing files, and none
     * of the options that describe a machine to boot; else --kernel is required.
     *
     * @throws IllegalArgumentException one line naming the option that does not fit
     */
    private boolean checkRestoreOptions() {
        if (restore == null && memoryFile == null) {
            if (paused) throw new IllegalArgumentException("--paused goes with --restore");
            if (kernel == null) throw new IllegalArgumentException("--kernel is required (or --restore with --memory-file)");
            return false;
        }
        if (restore == null || memoryFile == null) throw new IllegalArgumentException("--restore and --memory-file go together");
        ParseResult given = spec.commandLine().getParseResult();
        for (String option : BOOT_OPTIONS) {
            if (given.hasMatchedOption(option))
                throw new IllegalArgumentException(option + " cannot be given with --restore: the snapshot holds the machine");
        }
        requireFile("--restore", restore);
        requireFile("--memory-file", memoryFile);
        return true;
    }

    private static void requireFile(String option, Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(option + ": " + file + " is not a file");
        if (!Files.isReadable(file)) throw new IllegalArgumentException(option + ": " + file + " is not readable");
    }

    /** The machine the boot options describe. */
    private MachineConfig bootConfig() {
        VirtioDiscovery how = switch (discovery) {
            case "acpi" -> VirtioDiscovery.ACPI;
            case "cmdline" -> VirtioDiscovery.CMDLINE;
            default -> throw new IllegalArgumentException("--virtio-discovery must be acpi or cmdline, not '" + discovery + "'");
        };
        MachineConfig config = MachineConfig.of(kernel, Optional.ofNullable(initrd), MemorySize.parse(memory), cpus)
                .withCmdline(cmdline).withDisks(disks.stream().map(DiskSpec::parse).toList()).withRng(!noRng)
                .withNets(nets.stream().map(NetSpec::parse).toList())
                .withDiscovery(how).withVsock(Optional.ofNullable(vsock).map(VsockSpec::parse));
        return pvmQuirks ? config.withForcedPvmQuirks(true) : config;
    }

    /**
     * The machine of a {@code --boot-cache} run: the command after {@code --} in {@code --cmdline} is taken off
     * the kernel's command line and typed on the console once the machine, restored or booted, waits for it.
     */
    private Machine startCached(AtomicReference<BootCache.Start> cached, MachineConfig config, IntConsumer serial,
                                Consumer<String> exitTrace, PrintWriter err) {
        Path dir = bootCache.isEmpty()
                ? BootCacheStore.defaultDirectory(System.getenv(), Path.of(System.getProperty("user.home")))
                : Path.of(bootCache);
        BootCacheStore store;
        try {
            store = BootCacheStore.open(dir, BootCacheStore.DEFAULT_CAPACITY);
        } catch (IOException e) {
            throw new IllegalArgumentException("--boot-cache: cannot create " + dir + " (" + e.getMessage() + ")");
        }
        KernelCmdline.Parts parts = KernelCmdline.split(config.cmdline());
        cached.set(new BootCache(store, Snapshotter.MACHINE, err::println).start(config.withCmdline(parts.kernel()), parts.command(), serial, exitTrace));
        return cached.get().machine();
    }

    /** Where --trace-exits goes: null without it, stderr for "-", else the file (buffered, flushed at the end). */
    private PrintStream openTrace() {
        if (traceExits == null) return null;
        if (traceExits.equals("-")) return new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8) {
            @Override
            public void close() {
                flush(); // stderr stays open
            }
        };
        try {
            return new PrintStream(new BufferedOutputStream(Files.newOutputStream(Path.of(traceExits))), false, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("--trace-exits: cannot write " + traceExits + " (" + e.getMessage() + ")");
        }
    }

    /** What --boot-timeline and --exit-stats ask for, console bytes dropped if any, then the exit code. */
    private int report(Machine machine, RunOutcome outcome, PrintWriter err) {
        if (bootTimeline) {
            err.print(machine.bootTimeline().format());
            err.flush(); // print() does not flush an autoflush PrintWriter
        }
        if (exitStats) {
            List<ExitStats> stats = machine.exitStats();
            for (int i = 0; i < stats.size(); i++) {
                err.print("vcpu " + i + ":\n" + stats.get(i).format());
                machine.exitsPerDevice(stats.get(i)).forEach((device, n) -> err.printf("  %-24s %12d%n", device, n));
            }
            machine.deviceCounters().forEach((device, counters) -> err.println(device + ": " + counters));
        }
        long dropped = machine.droppedConsoleBytes();
        if (dropped > 0) err.println("jkvm: " + dropped + " bytes of guest console output dropped (the console was not being read)");
        return ExitCode.of(outcome, err);
    }
}
