package io.jkvm.kvm;

import static io.jkvm.kvm.sys.KvmStructs.Run.EXIT_REASON;
import static io.jkvm.kvm.sys.KvmStructs.Run.IO_COUNT;
import static io.jkvm.kvm.sys.KvmStructs.Run.IO_DATA_OFFSET;
import static io.jkvm.kvm.sys.KvmStructs.Run.IO_DIRECTION;
import static io.jkvm.kvm.sys.KvmStructs.Run.IO_PORT;
import static io.jkvm.kvm.sys.KvmStructs.Run.IO_SIZE;
import static io.jkvm.kvm.sys.KvmStructs.Run.KVM_EXIT_IO_OUT;
import static io.jkvm.kvm.sys.KvmStructs.Run.MMIO_DATA;
import static io.jkvm.kvm.sys.KvmStructs.Run.MMIO_IS_WRITE;
import static io.jkvm.kvm.sys.KvmStructs.Run.MMIO_LEN;
import static io.jkvm.kvm.sys.KvmStructs.Run.MMIO_PHYS_ADDR;
import static io.jkvm.kvm.sys.KvmStructs.Run.SIZE;

import io.jkvm.bus.Bus;
import io.jkvm.devices.legacy.Uart16550;
import io.jkvm.devices.virtio.MmioTransport;
import io.jkvm.devices.virtio.rng.VirtioRng;
import io.jkvm.kvm.sys.Native;
import io.jkvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One operation = the VMM's half of one exit without KVM: a kvm_run page filled by hand as KVM leaves it,
 * decoded in place, dispatched through the bus to a real device register (the 16550's THR for {@code pio},
 * a virtio-mmio transport's QueueSel for {@code mmio}), and recorded in the exit statistics, with the
 * handling-time histograms off or on ({@code metrics}, as after PUT /metrics) and exit tracing off or on
 * ({@code trace}, as with --trace-exits). The run loop's clock reads
 * around it are not included. In package io.jkvm.kvm for the package-private dispatcher. No KVM needed:
 * {@code java -cp benchmarks/target/benchmarks.jar org.openjdk.jmh.Main DispatchBenchmark -prof gc}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DispatchBenchmark {
    private static final int COM1 = 0x3f8;
    private static final long VIRTIO_BASE = 0xd000_0000L;
    /** virtio 1.2 §4.2.2 QueueSel. */
    private static final long QUEUE_SEL = 0x030;
    /** PIO data sits one page after the struct, as KVM places it. */
    private static final int PIO_DATA = 4096;

    @Param({"pio", "mmio"})
    public String exit;

    @Param({"off", "on"})
    public String metrics;

    /** {@code on}: every exit described in words to a sink that keeps only the lengths (--trace-exits). */
    @Param({"off", "on"})
    public String trace;

    private final ByteBuffer page = ByteBuffer.allocateDirect(SIZE + 4096).order(ByteOrder.LITTLE_ENDIAN);
    private GuestMemory memory;
    private MmioTransport transport;
    private ExitStats stats;
    private ExitDispatcher dispatcher;
    private KvmRun run;
    private ExitReason reason;
    private long transmitted;
    private long traced;

    @Setup
    public void setUp() {
        Bus pio = new Bus("pio");
        Bus mmio = new Bus("mmio");
        pio.register(COM1, Uart16550.PORT_COUNT, new Uart16550(asserted -> { }, b -> transmitted += b));
        memory = GuestMemory.allocate(1 << 20);
        transport = new MmioTransport(new VirtioRng(), memory, asserted -> { });
        mmio.register(VIRTIO_BASE, MmioTransport.WINDOW_SIZE, transport);
        stats = new ExitStats();
        if (metrics.equals("on")) stats.latencies();
        dispatcher = new ExitDispatcher(pio, mmio, new NoVcpuControl(), false, stats,
                trace.equals("on") ? new ExitTrace(line -> traced += line.length(), 0) : null);
        run = new KvmRun(Native.address(page), page.capacity());
        if (exit.equals("pio")) {
            reason = ExitReason.IO;
            page.putInt(EXIT_REASON, reason.code()).put(IO_DIRECTION, (byte) KVM_EXIT_IO_OUT).put(IO_SIZE, (byte) 1)
                    .putShort(IO_PORT, (short) COM1).putInt(IO_COUNT, 1).putLong(IO_DATA_OFFSET, PIO_DATA).put(PIO_DATA, (byte) 'A');
        } else {
            reason = ExitReason.MMIO;
            page.putInt(EXIT_REASON, reason.code()).putLong(MMIO_PHYS_ADDR, VIRTIO_BASE + QUEUE_SEL).putLong(MMIO_DATA, 0)
                    .putInt(MMIO_LEN, 4).put(MMIO_IS_WRITE, (byte) 1);
        }
    }

    @TearDown
    public void tearDown() {
        transport.close();
        memory.close();
    }

    @Benchmark
    public boolean dispatch() {
        boolean more = dispatcher.dispatch(run);
        stats.recordExit(reason, 100);
        return more;
    }

    /** Exit handling that never needs the vCPU's registers: PIO and MMIO exits do not. */
    private static final class NoVcpuControl implements VcpuControl {
        @Override public void skipInstruction(int length) { throw new UnsupportedOperationException(); }
        @Override public void injectException(VcpuEvents.ExceptionEvent exception) { throw new UnsupportedOperationException(); }
        @Override public String registerDump() { return ""; }
    }
}
