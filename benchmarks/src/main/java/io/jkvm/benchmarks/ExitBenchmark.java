package io.jkvm.benchmarks;

import io.jkvm.boot.cpu.CpuidPatcher;
import io.jkvm.boot.cpu.ModeSetup;
import io.jkvm.boot.cpu.ProtectedModeSetup;
import io.jkvm.bus.Bus;
import io.jkvm.guests.CpuMode;
import io.jkvm.guests.Ending;
import io.jkvm.guests.GuestSpec;
import io.jkvm.guests.TestGuest;
import io.jkvm.kvm.Kvm;
import io.jkvm.kvm.RunOutcome;
import io.jkvm.kvm.Vcpu;
import io.jkvm.kvm.VcpuRunner;
import io.jkvm.kvm.Vm;
import io.jkvm.memory.GuestMemory;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One operation = one guest exit round trip through the VMM's real run loop: KVM_RUN, the exit decoded in
 * place from kvm_run, dispatched through the PIO or MMIO bus to a device, KVM_RUN again. The guest
 * ({@code bench-pio}: {@code out %al,(%dx); jmp}, {@code bench-mmio}: {@code mov %eax,(%edi); jmp}) exits
 * on every iteration. Run with {@code -prof gc}: the loop allocates nothing, so B/op is about 0 (each
 * batch of {@value #BATCH} exits creates one VcpuRunner, a few hundred bytes over the batch).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ExitBenchmark {
    static final int BATCH = 10_000;
    /** The same guest-physical spots the test runner uses (TestGuestsTest). */
    private static final long GDT_ADDRESS = 0x500;
    private static final long TSS_ADDRESS = 0xfffb_d000L;

    @Param({"bench-pio", "bench-mmio"})
    public String guest;

    private Kvm kvm;
    private GuestMemory memory;
    private Vcpu vcpu;
    private Bus pio;
    private Bus mmio;
    private ExitCounter counter;

    @Setup
    public void setUp() {
        TestGuest g = TestGuest.load(guest);
        GuestSpec spec = g.spec();
        if (spec.mode() != CpuMode.PROTECTED32 || !(spec.ending() instanceof Ending.Loop loop))
            throw new IllegalArgumentException(guest + " is not a 32-bit looping benchmark guest");
        kvm = Kvm.open();
        memory = GuestMemory.allocate(spec.memorySize());
        Vm vm = kvm.createVm();
        vm.setTssAddress(TSS_ADDRESS);
        vm.mapMemory(memory);
        memory.write(spec.loadAddress(), g.image());
        ModeSetup mode = new ProtectedModeSetup(GDT_ADDRESS);
        mode.writeTables(memory);
        vcpu = vm.createVcpu(0);
        mode.enter(vcpu, new CpuidPatcher(kvm.supportedCpuid(), Kvm.isPvm()).forVcpu(0),
                ModeSetup.startRegs(spec.entry()));
        pio = new Bus("pio");
        mmio = new Bus("mmio");
        counter = new ExitCounter(loop.size(), loop.value());
        (loop.exit() == Ending.ExitKind.PIO ? pio : mmio).register(loop.address(), loop.size(), counter);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public RunOutcome exitRoundTrip() {
        VcpuRunner runner = new VcpuRunner(vcpu, pio, mmio, Kvm.isPvm());
        counter.arm(runner::stop, BATCH);
        RunOutcome outcome = runner.run();
        if (!(outcome instanceof RunOutcome.Stopped)) throw new IllegalStateException(guest + ": " + outcome);
        return outcome;
    }

    @TearDown
    public void tearDown() {
        kvm.close(); // closes the VM and vCPU first
        memory.close();
    }
}
