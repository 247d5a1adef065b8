package io.jkvm.kvm;

import io.jkvm.bus.Bus;
import io.jkvm.kvm.sys.ThreadKick;
import java.util.concurrent.locks.Condition;
import java.util.function.Consumer;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The run loop of one vCPU on its own platform thread: KVM_RUN, decode the exit in place, dispatch it,
 * repeat until an exit ends the run (see {@link RunOutcome}) or {@link #stop()} is called. Nothing is
 * allocated per exit. {@link #stop()} and {@link #pause()} kick the thread out of KVM_RUN even while the
 * guest is halted in the kernel, with immediate_exit and a real-time signal ({@link ThreadKick}), never a
 * JVM signal. A paused loop parks its thread on a condition (no CPU) until {@link #resume()} or
 * {@link #stop()}. An exit being handled when the pause comes is finished first, and so is the instruction
 * it belongs to: before parking, the loop enters KVM_RUN once more with immediate_exit set, which completes
 * the I/O or MMIO in flight without entering the guest (api.rst, KVM_RUN: the pending state of such an
 * operation is not visible to userspace, so re-enter "with the immediate_exit field set to complete pending
 * operations without allowing any further instructions to be executed"). A parked vCPU's state is whole:
 * it may be saved ({@link VcpuState}) from another thread until {@link #resume()}.
 */
public final class VcpuRunner {
    private final RunLoopVcpu vcpu;
    private final ExitStats stats = new ExitStats();
    private final ExitDispatcher dispatcher;
    private final Object kickLock = new Object();
    private ThreadKick kick; // guarded by kickLock; set while the vCPU thread is in the loop
    private volatile boolean stopRequested;
    private volatile boolean pauseRequested;
    /** Guards {@link #parked}; {@link #changed} is signalled on every pause, resume, park and unpark. */
    private final ReentrantLock parking = new ReentrantLock();
    private final Condition changed = parking.newCondition();
    private boolean parked;
    private boolean ended;
    private volatile RunOutcome outcome;
    private Thread thread;

    /**
     * @param emulationQuirks handle PVM's emulator gaps (int3, fwait) instead of failing on them; pass
     *                        {@link Kvm#isPvm()}
     */
    public VcpuRunner(Vcpu vcpu, Bus pio, Bus mmio, boolean emulationQuirks) {
        this(vcpu.forRunLoop(), pio, mmio, emulationQuirks, null);
    }

    /** @param trace where each exit is described in words ({@code --trace-exits}), or null for none */
    public VcpuRunner(Vcpu vcpu, Bus pio, Bus mmio, boolean emulationQuirks, Consumer<String> trace) {
        this(vcpu.forRunLoop(), pio, mmio, emulationQuirks, trace);
    }

    VcpuRunner(RunLoopVcpu vcpu, Bus pio, Bus mmio, boolean emulationQuirks, Consumer<String> trace) {
        this.vcpu = vcpu;
        this.dispatcher = new ExitDispatcher(pio, mmio, vcpu, emulationQuirks, stats,
                trace == null ? null : new ExitTrace(trace, vcpu.id()));
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
            signal(() -> ended = true);
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
            // Paused: KVM_RUN completes what is in flight, then returns EINTR instead of entering the guest.
            if (pauseRequested) run.setImmediateExit(true);
            long entered = System.nanoTime();
            boolean exited = vcpu.run();
            long left = System.nanoTime();
            stats.recordKvmRun(left - entered);
            if (!exited) {
                // EINTR: a kick (or another signal). Consume it so the next KVM_RUN can block again.
                k.drain();
                run.setImmediateExit(false);
                stats.recordExit(ExitReason.INTR, System.nanoTime() - left);
                if (pauseRequested) park();
                continue;
            }
            ExitReason reason = run.exitReason();
            boolean more = dispatcher.dispatch(run);
            stats.recordExit(reason, System.nanoTime() - left);
            if (!more) return dispatcher.outcome();
        }
        return RunOutcome.STOPPED;
    }

    /** On the vCPU thread: waits, using no CPU, until resumed or stopped. */
    private void park() {
        vcpu.markClockPaused(); // false for a guest without kvmclock: nothing to tell it
        signal(() -> parked = true);
        parking.lock();
        try {
            while (pauseRequested && !stopRequested) changed.awaitUninterruptibly();
            parked = false;
            changed.signalAll();
        } finally {
            parking.unlock();
        }
    }

    private void signal(Runnable change) {
        parking.lock();
        try {
            change.run();
            changed.signalAll();
        } finally {
            parking.unlock();
        }
    }

    /**
     * Ends the run: the vCPU leaves KVM_RUN within milliseconds, even from a halted guest or a paused loop,
     * and the loop returns {@link RunOutcome.Stopped}. Any thread may call this, any number of times.
     */
    public void stop() {
        stopRequested = true; // seen by a loop that has not armed yet, or is between two KVM_RUNs
        signal(() -> { }); // a parked loop wakes and sees it
        kickOut();
    }

    /**
     * Asks the loop to park: the vCPU leaves KVM_RUN as for {@link #stop()} but the run goes on after
     * {@link #resume()}. Returns at once; {@link #awaitParked()} waits until the thread has parked. Pausing
     * a paused loop changes nothing.
     */
    public void pause() {
        pauseRequested = true;
        kickOut();
    }

    /** Lets a paused loop enter KVM_RUN again; resuming a loop that is not paused changes nothing. */
    public void resume() {
        signal(() -> pauseRequested = false);
    }

    /**
     * After {@link #pause()}: waits until the vCPU thread has parked (outside KVM_RUN, its exit handled) or
     * the run has ended. Returns false if that took longer than {@code timeoutMillis}.
     */
    public boolean awaitParked(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        parking.lock();
        try {
            while (!parked && !ended) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                changed.awaitNanos(left);
            }
            return true;
        } finally {
            parking.unlock();
        }
    }

    private void kickOut() {
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
