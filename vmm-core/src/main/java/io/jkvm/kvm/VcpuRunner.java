package io.jkvm.kvm;

import io.jkvm.bus.Bus;
import io.jkvm.kvm.sys.ThreadKick;

/**
 * The run loop of one vCPU on its own platform thread: KVM_RUN, decode the exit in place, dispatch it,
 * repeat until an exit ends the run (see {@link RunOutcome}) or {@link #stop()} is called. Nothing is
 * allocated per exit. {@link #stop()} kicks the thread out of KVM_RUN even while the guest is halted in
 * the kernel, with immediate_exit and a real-time signal ({@link ThreadKick}), never a JVM signal.
 */
public final class VcpuRunner {
    private final RunLoopVcpu vcpu;
    private final ExitStats stats = new ExitStats();
    private final ExitDispatcher dispatcher;
    private final Object kickLock = new Object();
    private ThreadKick kick; // guarded by kickLock; set while the vCPU thread is in the loop
    private volatile boolean stopRequested;
    private volatile RunOutcome outcome;
    private Thread thread;

    /**
     * @param emulationQuirks handle PVM's emulator gaps (int3, fwait) instead of failing on them; pass
     *                        {@link Kvm#isPvm()}
     */
    public VcpuRunner(Vcpu vcpu, Bus pio, Bus mmio, boolean emulationQuirks) {
        this(vcpu.forRunLoop(), pio, mmio, emulationQuirks);
    }

    VcpuRunner(RunLoopVcpu vcpu, Bus pio, Bus mmio, boolean emulationQuirks) {
        this.vcpu = vcpu;
        this.dispatcher = new ExitDispatcher(pio, mmio, vcpu, emulationQuirks, stats);
    }

    /** Starts the loop on a new platform thread named "vcpu-&lt;id&gt;". */
    public synchronized void start() {
        if (thread != null) throw new IllegalStateException("vcpu " + vcpu.id() + " already started");
        thread = new Thread(() -> {
            try {
                outcome = run();
            } catch (Throwable t) { // an Error: still tell await() how the run ended
                outcome = new RunOutcome.Failed("vcpu " + vcpu.id() + " thread died: " + t, "");
                throw t;
            }
        }, "vcpu-" + vcpu.id());
        thread.start();
    }

    /** Waits for the thread started by {@link #start()} to end and returns how the run ended. */
    public RunOutcome await() throws InterruptedException {
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t == null) throw new IllegalStateException("vcpu " + vcpu.id() + " not started");
        t.join();
        return outcome;
    }

    /**
     * Runs the loop on the calling thread until the run ends. The thread then keeps the kick signal
     * blocked: use a thread of its own ({@link #start()} does).
     */
    public RunOutcome run() {
        ThreadKick k = ThreadKick.armCurrentThread();
        try {
            vcpu.setSignalMask(k.kvmSignalMask());
            synchronized (kickLock) {
                kick = k;
            }
            return loop(k);
        } catch (RuntimeException e) {
            return new RunOutcome.Failed("vcpu " + vcpu.id() + ": " + e, vcpu.registerDump());
        } finally {
            synchronized (kickLock) {
                kick = null; // no pthread_kill may target this thread once it can end
            }
            // Real-time signals queue: every kick sent before kick = null must be consumed, or a pending
            // SIGRTMIN outlives the loop (seen under nested KVM: the process was killed by it).
            while (k.drain()) {
                // one queued kick consumed
            }
        }
    }

    private RunOutcome loop(ThreadKick k) {
        KvmRun run = vcpu.kvmRun();
        while (!stopRequested) {
            long entered = System.nanoTime();
            boolean exited = vcpu.run();
            long left = System.nanoTime();
            stats.recordKvmRun(left - entered);
            if (!exited) {
                // EINTR: a kick (or another signal). Consume it so the next KVM_RUN can block again.
                k.drain();
                run.setImmediateExit(false);
                stats.recordExit(ExitReason.INTR, System.nanoTime() - left);
                continue;
            }
            ExitReason reason = run.exitReason();
            boolean more = dispatcher.dispatch(run);
            stats.recordExit(reason, System.nanoTime() - left);
            if (!more) return dispatcher.outcome();
        }
        return RunOutcome.STOPPED;
    }

    /**
     * Ends the run: the vCPU leaves KVM_RUN within milliseconds, even from a halted guest, and the loop
     * returns {@link RunOutcome.Stopped}. Any thread may call this, any number of times.
     */
    public void stop() {
        stopRequested = true; // seen by a loop that has not armed yet, or is between two KVM_RUNs
        synchronized (kickLock) {
            if (kick == null) return; // not running (yet, or any more): kvm_run may be unmapped
            vcpu.kvmRun().setImmediateExit(true); // KVM_RUN not yet entered returns at once
            kick.kick(); // KVM_RUN already blocking returns EINTR
        }
    }

    /** Exit statistics; complete once the run has ended. */
    public ExitStats stats() {
        return stats;
    }
}
