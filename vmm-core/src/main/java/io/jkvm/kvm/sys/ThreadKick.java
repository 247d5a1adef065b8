package io.jkvm.kvm.sys;

import java.nio.ByteBuffer;

/**
 * Kicks one thread out of a blocking KVM_RUN without a signal handler and without the JVM's signals
 * (api.rst 4.43 KVM_SET_SIGNAL_MASK; the scheme QEMU uses for its vCPU threads):
 * <ol>
 *   <li>the vCPU thread blocks {@link #SIGNAL} for itself ({@link #armCurrentThread}) and hands KVM its
 *       mask minus that signal ({@link #kvmSignalMask}), so the signal is deliverable only inside KVM_RUN;</li>
 *   <li>{@link #kick} sends it with pthread_kill: KVM_RUN returns EINTR (or returns at once if the thread
 *       was not inside it yet), and because it is blocked again outside KVM_RUN it stays pending;</li>
 *   <li>the vCPU thread {@link #drain}s it with a zero-timeout sigtimedwait.</li>
 * </ol>
 * The signal is never unblocked outside KVM_RUN: with no handler its default action would end the process.
 */
public final class ThreadKick {
    /**
     * SIGRTMIN as glibc defines it (the real-time signals below it are glibc's own). HotSpot uses none of
     * the real-time signals (it uses SIGSEGV/SIGBUS/SIGFPE/SIGILL, SIGPIPE, SIGXFSZ, SIGQUIT, SIGUSR2,
     * SIGHUP/SIGINT/SIGTERM), and Firecracker picks the same signal for its vCPU kick.
     */
    public static final int SIGNAL = LibC.INSTANCE.__libc_current_sigrtmin();

    private static final int SIG_BLOCK = 0; // <bits/sigaction.h>
    /** glibc's sigset_t: 1024 bits. */
    private static final int GLIBC_SIGSET_BYTES = 128;
    private static final int KICK_SET = 0;
    private static final int OLD_SET = KICK_SET + GLIBC_SIGSET_BYTES;
    private static final int KVM_MASK = OLD_SET + GLIBC_SIGSET_BYTES;
    private static final int ZERO_TIMEOUT = KVM_MASK + 16; // struct timespec {0, 0}, 8-aligned
    private static final int CELLS = ZERO_TIMEOUT + 16;

    private final long thread;
    private final ByteBuffer cells = ByteBuffer.allocateDirect(CELLS);
    private final long base = Native.address(cells);

    private ThreadKick() {
        this.thread = LibC.INSTANCE.pthread_self();
    }

    /** Blocks {@link #SIGNAL} in the calling thread and returns a kick aimed at that thread. */
    public static ThreadKick armCurrentThread() {
        ThreadKick k = new ThreadKick();
        setBit(k.base + KICK_SET, SIGNAL);
        int err = LibC.INSTANCE.pthread_sigmask(SIG_BLOCK, k.base + KICK_SET, k.base + OLD_SET);
        if (err != 0) throw new NativeException("pthread_sigmask", err);
        // The mask KVM_RUN runs with: the thread's mask before, without SIGNAL, in the kernel's 8 bytes.
        RawMemory.putInt(k.base + KVM_MASK + KvmStructs.SignalMask.LEN, KvmStructs.SignalMask.KERNEL_SIGSET_BYTES);
        RawMemory.copy(k.base + OLD_SET, k.base + KVM_MASK + KvmStructs.SignalMask.SIGSET,
                KvmStructs.SignalMask.KERNEL_SIGSET_BYTES);
        clearBit(k.base + KVM_MASK + KvmStructs.SignalMask.SIGSET, SIGNAL);
        return k;
    }

    /** The address of a struct kvm_signal_mask for KVM_SET_SIGNAL_MASK, valid while this object lives. */
    public long kvmSignalMask() {
        return base + KVM_MASK;
    }

    /** Sends {@link #SIGNAL} to the armed thread; any thread may call this while that thread is alive. */
    public void kick() {
        int err = LibC.INSTANCE.pthread_kill(thread, SIGNAL);
        if (err != 0) throw new NativeException("pthread_kill", err);
    }

    /** On the armed thread: consumes a pending kick; returns whether there was one. Never blocks. */
    public boolean drain() {
        int r = LibC.INSTANCE.sigtimedwait(base + KICK_SET, 0, base + ZERO_TIMEOUT);
        if (r == SIGNAL) return true;
        int errno = Native.errno();
        if (errno == Native.EAGAIN || errno == Native.EINTR) return false;
        throw new NativeException("sigtimedwait", errno);
    }

    /** Signal {@code sig} is bit {@code sig - 1} of a little-endian bit array (sigaddset). */
    private static void setBit(long set, int sig) {
        long at = set + (sig - 1) / 8;
        RawMemory.putByte(at, (byte) (RawMemory.getByte(at) | 1 << (sig - 1) % 8));
    }

    private static void clearBit(long set, int sig) {
        long at = set + (sig - 1) / 8;
        RawMemory.putByte(at, (byte) (RawMemory.getByte(at) & ~(1 << (sig - 1) % 8)));
    }
}
