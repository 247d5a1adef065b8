package io.jkvm.devices.virtio.rng;

import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.readable;
import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.writable;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.devices.virtio.VirtqueueDriver;
import io.jkvm.memory.GuestMemory;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class VirtioRngTest {
    private static final long RAM = 1 << 20;
    private static final long BUF = 0x10000;

    private final GuestMemory memory = GuestMemory.allocate(RAM);
    private final VirtioRng rng = new VirtioRng();
    private final VirtqueueDriver driver = VirtqueueDriver.withQueue(memory, VirtioRng.QUEUE_SIZE, rng.features());

    @AfterEach
    void close() {
        memory.close();
    }

    @Test
    void identity() {
        assertEquals(4, rng.deviceId());
        assertEquals(1, rng.queueCount());
        assertEquals(0, rng.readConfig(0, 4));
    }

    @Test
    void fillsWritableBuffersAcrossDescriptors() {
        driver.addChain(writable(BUF, 5000), writable(BUF + 0x4000, 3000));
        rng.processQueue(0, driver.queue());
        assertEquals(1, driver.usedIdx());
        assertEquals(8000, driver.usedLength(0));
        byte[] a = memory.read(BUF, 5000);
        byte[] b = memory.read(BUF + 0x4000, 3000);
        // 8000 random bytes: the chance that any of these checks fails by accident is negligible
        assertFalse(Arrays.equals(new byte[5000], a));
        assertFalse(Arrays.equals(new byte[3000], b));
        assertFalse(Arrays.equals(Arrays.copyOf(a, 3000), b));
        assertEquals(0, memory.readByte(BUF + 5000), "nothing written past the buffer");
    }

    @Test
    void servesEveryChainOnTheQueue() {
        for (int i = 0; i < 3; i++) driver.addChain(writable(BUF + i * 64L, 64));
        rng.processQueue(0, driver.queue());
        assertEquals(3, driver.usedIdx());
        assertFalse(Arrays.equals(memory.read(BUF, 64), memory.read(BUF + 64, 64)));
    }

    @Test
    void largeBuffersAreCapped() {
        driver.addChain(writable(BUF, VirtioRng.MAX_BYTES_PER_REQUEST + 4096));
        rng.processQueue(0, driver.queue());
        assertEquals(VirtioRng.MAX_BYTES_PER_REQUEST, driver.usedLength(0));
    }

    @Test
    void readableOnlyOrOutsideRamGetsNothing() {
        driver.addChain(readable(BUF, 64));
        driver.addChain(writable(RAM - 16, 64));
        rng.processQueue(0, driver.queue());
        assertEquals(2, driver.usedIdx());
        assertEquals(0, driver.usedLength(0));
        assertEquals(0, driver.usedLength(1));
        assertTrue(Arrays.equals(new byte[16], memory.read(RAM - 16, 16)));
    }

    @Test
    void countsTheBytesItServed() {
        driver.addChain(writable(BUF, 100));
        driver.addChain(writable(BUF + 0x1000, 28));
        rng.processQueue(0, driver.queue());
        assertEquals("virtio-rng", rng.name());
        assertEquals(java.util.Map.of("bytes", 128L), rng.counters());
    }
}
