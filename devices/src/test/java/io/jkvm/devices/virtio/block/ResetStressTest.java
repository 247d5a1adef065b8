package io.jkvm.devices.virtio.block;

import static io.jkvm.devices.virtio.VirtioMmioDriver.INTERRUPT_ACK;
import static io.jkvm.devices.virtio.VirtioMmioDriver.INTERRUPT_STATUS;
import static io.jkvm.devices.virtio.VirtioMmioDriver.QUEUE_NOTIFY;
import static io.jkvm.devices.virtio.VirtioMmioDriver.QUEUE_READY;
import static io.jkvm.devices.virtio.VirtioMmioDriver.QUEUE_SEL;
import static io.jkvm.devices.virtio.VirtioMmioDriver.STATUS;
import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.readable;
import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.writable;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.bus.InterruptLine;
import io.jkvm.devices.virtio.MmioTransport;
import io.jkvm.devices.virtio.VirtioFeature;
import io.jkvm.devices.virtio.VirtioMmioDriver;
import io.jkvm.devices.virtio.VirtqueueDriver;
import io.jkvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three threads on one virtio-blk device, for a few seconds ({@code -Djkvm.stress.seconds}, default 3): the
 * driver thread sets the device up, submits a batch of writes and reads, notifies, and after a random moment
 * resets it (sometimes through QueueReady = 0 first) while the queue's own I/O thread is serving the batch; a
 * third thread reads InterruptStatus all the time, as other vCPUs do in Linux's interrupt handler. After each
 * round's reset returns:
 * <ul>
 * <li>Status and InterruptStatus read 0, and InterruptStatus stays 0 (no interrupt raised after the reset,
 *     virtio 1.2 §2.4);</li>
 * <li>the device no longer touches guest memory: the used ring and every status byte stay as they are;</li>
 * <li>every request in the used ring has status OK, the right used length, and its data: a completed write
 *     is in the image, a completed read in guest memory; a request not in the used ring has no status byte;</li>
 * <li>the reset took bounded time, and no InterruptStatus read took long (it never waits for a batch).</li>
 * </ul>
 */
class ResetStressTest {
    private static final long SECONDS = Long.getLong("jkvm.stress.seconds", 3);
    private static final int QUEUE = 256;
    private static final int REQUESTS = 80; // 3 descriptors each
    private static final int SECTORS = 256;
    private static final int READ_BASE = 128; // sectors [128, 256) are only ever read
    private static final long HEADERS = 0x10000, DATA = 0x20000, STATUS_BYTES = 0x40000;
    private static final long BOUND_NANOS = 2_000_000_000L;

    @TempDir Path dir;

    @Test
    void resetWhileTheWorkerServesAndInterruptStatusIsRead() throws Exception {
        Path image = dir.resolve("disk.img");
        byte[] initial = new byte[SECTORS * 512];
        for (int s = READ_BASE; s < SECTORS; s++) Arrays.fill(initial, s * 512, s * 512 + 512, (byte) s);
        Files.write(image, initial);
        Random random = new Random(Long.getLong("jkvm.stress.seed", System.nanoTime()));
        InterruptLine line = level -> { };
        try (GuestMemory memory = GuestMemory.allocate(1 << 20)) {
            MmioTransport transport = new MmioTransport(VirtioBlock.open(image, false, "stress"), memory, line);
            VirtioMmioDriver mmio = new VirtioMmioDriver(transport);
            AtomicReference<Throwable> readerFailure = new AtomicReference<>();
            AtomicLong slowestRead = new AtomicLong();
            AtomicLong reads = new AtomicLong();
            Thread reader = new Thread(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        long t = System.nanoTime();
                        long v = transport.read(0x060, 4);
                        slowestRead.accumulateAndGet(System.nanoTime() - t, Math::max);
                        reads.incrementAndGet();
                        if ((v & ~0b11L) != 0) throw new AssertionError("InterruptStatus " + v);
                    }
                } catch (Throwable e) {
                    readerFailure.set(e);
                }
            }, "interrupt-status-reader");
            try {
                transport.start();
                reader.start();
                long end = System.nanoTime() + SECONDS * 1_000_000_000L;
                int rounds = 0;
                long slowestReset = 0;
                int completedTotal = 0;
                while (System.nanoTime() < end && readerFailure.get() == null) {
                    long features = mmio.deviceFeatures() & (VirtioFeature.TRANSPORT_FEATURES | VirtioBlock.VIRTIO_BLK_F_FLUSH);
                    mmio.negotiate(features);
                    VirtqueueDriver queue = VirtqueueDriver.atDefaultLayout(memory, QUEUE);
                    mmio.setUpQueue(0, queue);
                    mmio.driverOk();
                    int[] requestOfHead = new int[QUEUE];
                    memory.fill(STATUS_BYTES, REQUESTS, (byte) 0x7f);
                    memory.fill(DATA, REQUESTS * 512L, (byte) 0);
                    for (int i = 0; i < REQUESTS; i++) {
                        boolean write = i % 2 == 0;
                        long header = HEADERS + 16L * i, data = DATA + 512L * i;
                        memory.write(header, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                                .putInt(write ? VirtioBlock.VIRTIO_BLK_T_OUT : VirtioBlock.VIRTIO_BLK_T_IN).putInt(0)
                                .putLong(sector(i)).array());
                        if (write) memory.write(data, pattern(rounds, i));
                        int head = queue.addChain(readable(header, 16),
                                write ? readable(data, 512) : writable(data, 512), writable(STATUS_BYTES + i, 1));
                        requestOfHead[head] = i;
                    }
                    mmio.write(QUEUE_NOTIFY, 0);
                    LockSupport.parkNanos(random.nextInt(400_000)); // let the worker get somewhere in the batch

                    long t = System.nanoTime();
                    if (random.nextBoolean()) {
                        mmio.write(QUEUE_SEL, 0);
                        mmio.write(QUEUE_READY, 0);
                    }
                    mmio.write(STATUS, 0);
                    long resetNanos = System.nanoTime() - t;
                    slowestReset = Math.max(slowestReset, resetNanos);
                    assertTrue(resetNanos < BOUND_NANOS, "reset took " + resetNanos / 1_000_000 + " ms");
                    assertEquals(0, mmio.read(STATUS), "Status after reset");

                    byte[] usedRing = memory.read(queue.usedRing(), 4 + 8 * QUEUE);
                    byte[] statusBytes = memory.read(STATUS_BYTES, REQUESTS);
                    LockSupport.parkNanos(2_000_000); // a worker that still ran would show itself now
                    assertEquals(0, mmio.read(INTERRUPT_STATUS), "InterruptStatus after reset (round " + rounds + ")");
                    assertArrayEquals(usedRing, memory.read(queue.usedRing(), 4 + 8 * QUEUE), "used ring written after reset");
                    assertArrayEquals(statusBytes, memory.read(STATUS_BYTES, REQUESTS), "status byte written after reset");

                    int completed = queue.usedIdx();
                    assertTrue(completed <= REQUESTS, completed + " completions for " + REQUESTS + " requests");
                    boolean[] done = new boolean[REQUESTS];
                    byte[] disk = Files.readAllBytes(image);
                    for (int n = 0; n < completed; n++) {
                        int i = requestOfHead[queue.usedId(n)];
                        done[i] = true;
                        boolean write = i % 2 == 0;
                        assertEquals(0, memory.readByte(STATUS_BYTES + i), "status of completed request " + i);
                        assertEquals(write ? 1 : 513, queue.usedLength(n), "used length of request " + i);
                        byte[] expected = write ? pattern(rounds, i) : sectorOf(initial, sector(i));
                        byte[] actual = write ? Arrays.copyOfRange(disk, (int) sector(i) * 512, (int) sector(i) * 512 + 512)
                                : memory.read(DATA + 512L * i, 512);
                        assertArrayEquals(expected, actual, (write ? "write" : "read") + " " + i + " completed without its data");
                    }
                    for (int i = 0; i < REQUESTS; i++)
                        if (!done[i]) assertEquals(0x7f, memory.readByte(STATUS_BYTES + i) & 0xff, "status of request " + i + " not in the used ring");
                    mmio.write(INTERRUPT_ACK, 0b11);
                    completedTotal += completed;
                    rounds++;
                }
                reader.interrupt();
                reader.join();
                if (readerFailure.get() != null) throw new AssertionError("InterruptStatus reader", readerFailure.get());
                assertTrue(slowestRead.get() < BOUND_NANOS, "an InterruptStatus read took " + slowestRead.get() / 1_000_000 + " ms");
                assertTrue(rounds > 10, "only " + rounds + " rounds");
                System.out.printf("reset stress: %d rounds, %d requests completed before a reset, %d InterruptStatus reads, "
                        + "slowest reset %.2f ms, slowest InterruptStatus read %.2f ms%n", rounds, completedTotal, reads.get(),
                        slowestReset / 1e6, slowestRead.get() / 1e6);
            } finally {
                reader.interrupt();
                reader.join();
                transport.close();
            }
        }
    }

    private static long sector(int request) {
        return request % 2 == 0 ? request : READ_BASE + request;
    }

    private static byte[] pattern(int round, int request) {
        byte[] b = new byte[512];
        for (int k = 0; k < b.length; k++) b[k] = (byte) (round * 7 + request * 13 + k);
        return b;
    }

    private static byte[] sectorOf(byte[] disk, long sector) {
        return Arrays.copyOfRange(disk, (int) sector * 512, (int) sector * 512 + 512);
    }
}
