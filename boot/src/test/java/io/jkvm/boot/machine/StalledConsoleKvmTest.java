package io.jkvm.boot.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.boot.loader.TestImages;
import io.jkvm.kvm.RunOutcome;
import io.jkvm.testing.KvmTests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A guest that writes to COM1 as fast as it can, and a host console that stops reading after the first byte
 * (a pipe nobody drains, a stuck ssh session): the vCPU must not block on the console, so the host can still
 * stop the guest within a second, closing the machine does not wait for the console, and what could not be
 * written is counted.
 */
class StalledConsoleKvmTest {
    private static final int EM_X86_64 = 62;
    private static final long CODE = 0x100_0000;
    /** mov dx, 0x3f8; mov al, 'x'; 1: out dx, al; jmp 1b (64-bit code). */
    private static final byte[] PRINT_FOREVER = {0x66, (byte) 0xba, (byte) 0xf8, 0x03, (byte) 0xb0, 0x78, (byte) 0xee, (byte) 0xeb, (byte) 0xfd};

    @TempDir Path dir;

    @Test
    void aGuestPrintingToAConsoleNobodyReadsStopsWithinASecond() throws Exception {
        KvmTests.assumeKvm();
        Path kernel = Files.write(dir.resolve("print-forever"), TestImages.elf(EM_X86_64, CODE,
                TestImages.segs(new TestImages.Seg(CODE, CODE, PRINT_FOREVER, PRINT_FOREVER.length)), -1));
        MachineConfig config = MachineConfig.of(kernel, Optional.empty(), 64L << 20, 1);
        CountDownLatch stalled = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicLong delivered = new AtomicLong();
        Machine machine = Machine.create(config, b -> {
            delivered.incrementAndGet();
            stalled.countDown();
            try {
                release.await(); // the reader went away: write(2) blocks until the test ends
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            CompletableFuture<RunOutcome> outcome = CompletableFuture.supplyAsync(() -> {
                try {
                    return machine.run();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertTrue(stalled.await(60, TimeUnit.SECONDS), "the guest printed");
            Thread.sleep(3000); // the guest prints on, into a console that does not move

            machine.stop();
            assertEquals(RunOutcome.STOPPED, outcome.get(1, TimeUnit.SECONDS), "run() returns within 1 s of stop()");
            long start = System.nanoTime();
            machine.close(); // gives the console 500 ms, then leaves the stuck sink behind
            long closeMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(closeMillis < 5000, "close took " + closeMillis + " ms");
            assertEquals(1, delivered.get());
            assertTrue(machine.droppedConsoleBytes() > 0, "dropped bytes are counted");
        } finally {
            release.countDown();
            machine.close();
        }
    }
}
