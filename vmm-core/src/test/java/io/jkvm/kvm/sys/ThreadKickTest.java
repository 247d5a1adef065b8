package io.jkvm.kvm.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The vCPU kick without KVM: a thread blocks the signal, another pthread_kills it, and the signal waits
 * pending (no handler runs, the process lives) until the thread drains it with sigtimedwait.
 */
class ThreadKickTest {
    private static final int SIGRTMAX = 64; // x86-64 Linux: _NSIG

    @Test
    void usesARealTimeSignal() {
        assertTrue(ThreadKick.SIGNAL >= 32 && ThreadKick.SIGNAL <= SIGRTMAX, "signal " + ThreadKick.SIGNAL);
    }

    @Test
    void kickStaysPendingUntilDrained() throws Exception {
        CompletableFuture<ThreadKick> armed = new CompletableFuture<>();
        CountDownLatch kicked = new CountDownLatch(1);
        CompletableFuture<boolean[]> drained = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            ThreadKick k = ThreadKick.armCurrentThread();
            boolean before = k.drain();
            armed.complete(k);
            try {
                assertTrue(kicked.await(5, TimeUnit.SECONDS));
                drained.complete(new boolean[] {before, k.drain(), k.drain()});
            } catch (Throwable e) {
                drained.completeExceptionally(e);
            }
        });
        t.start();
        armed.get(5, TimeUnit.SECONDS).kick();
        kicked.countDown();
        boolean[] r = drained.get(5, TimeUnit.SECONDS);
        t.join();
        assertFalse(r[0], "nothing pending before the kick");
        assertTrue(r[1], "the kick is pending after pthread_kill");
        assertFalse(r[2], "drained once, gone");
    }

    @Test
    void kvmMaskIsTheThreadMaskWithoutTheKickSignal() throws Exception {
        int other = ThreadKick.SIGNAL + 1;
        CompletableFuture<byte[]> mask = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            ByteBuffer set = ByteBuffer.allocateDirect(128);
            set.put((other - 1) / 8, (byte) (1 << (other - 1) % 8));
            assertEquals(0, LibC.INSTANCE.pthread_sigmask(0 /* SIG_BLOCK */, Native.address(set), 0));
            ThreadKick k = ThreadKick.armCurrentThread();
            byte[] m = new byte[KvmStructs.SignalMask.SIZE + KvmStructs.SignalMask.KERNEL_SIGSET_BYTES];
            RawMemory.get(k.kvmSignalMask(), m, 0, m.length);
            mask.complete(m);
        });
        t.start();
        byte[] m = mask.get(5, TimeUnit.SECONDS);
        t.join();
        ByteBuffer b = ByteBuffer.wrap(m).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(8, b.getInt(KvmStructs.SignalMask.LEN));
        long set = b.getLong(KvmStructs.SignalMask.SIGSET);
        assertEquals(0, set & 1L << ThreadKick.SIGNAL - 1, "kick signal unblocked inside KVM_RUN");
        assertEquals(1L << other - 1, set & 1L << other - 1, "other blocked signals stay blocked");
    }
}
