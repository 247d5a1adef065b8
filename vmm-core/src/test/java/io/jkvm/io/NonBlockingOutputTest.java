package io.jkvm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class NonBlockingOutputTest {
    private static final int CAPACITY = 64 * 1024;

    @Test
    void aSinkThatKeepsUpGetsEveryByteInOrder() {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] sent = new byte[3 * CAPACITY];
        for (int i = 0; i < sent.length; i++) sent[i] = (byte) (i * 31 + i / 7);
        NonBlockingOutput out = new NonBlockingOutput("test-out", CAPACITY, 5000, b -> {
            synchronized (got) {
                got.write(b);
            }
        });
        for (int i = 0; i < sent.length; i++) {
            out.accept(sent[i] & 0xff);
            if (i % CAPACITY == 0) Thread.yield();
            while (i % 4096 == 4095 && pending(got, i + 1) > CAPACITY / 2) Thread.onSpinWait(); // a fast reader
        }
        out.close();
        assertEquals(0, out.dropped());
        assertArrayEquals(sent, got.toByteArray());
    }

    private static int pending(ByteArrayOutputStream got, int sent) {
        synchronized (got) {
            return sent - got.size();
        }
    }

    /** A console nobody reads: the writer never blocks, the overflow is counted, close does not wait for the sink. */
    @Test
    void aStalledSinkNeverBlocksTheWriter() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicLong delivered = new AtomicLong();
        NonBlockingOutput out = new NonBlockingOutput("test-out", CAPACITY, 200, b -> {
            delivered.incrementAndGet();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            int megabytes = 4 << 20;
            long start = System.nanoTime();
            for (int i = 0; i < megabytes; i++) out.accept('x');
            long writeMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(writeMillis < 5000, "4 MiB to a sink stuck for 10 s took " + writeMillis + " ms");
            start = System.nanoTime();
            out.close();
            long closeMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(closeMillis < 1000, "close took " + closeMillis + " ms");
            assertEquals(1, delivered.get());
            assertEquals(megabytes - 1, out.dropped(), "everything but the byte the sink is stuck on");
            out.accept('y');
            assertEquals(megabytes, out.dropped(), "after close, bytes are dropped");
        } finally {
            release.countDown();
        }
    }
}
