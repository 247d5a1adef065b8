package io.jkvm.devices.virtio;

import static io.jkvm.devices.virtio.VirtioMmioDriver.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.bus.InterruptLine;
import io.jkvm.devices.virtio.VirtqueueDriver.Buffer;
import io.jkvm.memory.GuestMemory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class MmioTransportTest {
    private static final int ALL_INIT = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK;
    private static final long DATA = 0x10000;

    private final GuestMemory memory = GuestMemory.allocate(1 << 20);
    private final TestDevice device = new TestDevice(2);
    private final InterruptRecorder irq = new InterruptRecorder();
    private final MmioTransport transport = new MmioTransport(device, memory, irq);
    private final VirtioMmioDriver driver = new VirtioMmioDriver(transport);

    @AfterEach
    void close() {
        transport.close();
        memory.close();
    }

    @Test
    void identificationRegisters() {
        assertEquals(0x74726976L, driver.read(MAGIC_VALUE));
        assertEquals(2, driver.read(VERSION));
        assertEquals(TestDevice.DEVICE_ID, driver.read(DEVICE_ID));
        assertEquals(0x4d564b4aL, driver.read(VENDOR_ID));
        assertEquals(0xffff_ffffL, driver.read(SHM_LEN_LOW), "no shared memory regions");
    }

    @Test
    void deviceFeaturesAreReadInTwoWords() {
        assertEquals(device.features(), driver.deviceFeatures());
        driver.write(DEVICE_FEATURES_SEL, 2);
        assertEquals(0, driver.read(DEVICE_FEATURES));
    }

    @Test
    void featuresOkNeedsVersion1() {
        int status = driver.negotiate(TestDevice.DEVICE_FEATURE);
        assertEquals(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER, status);
    }

    @Test
    void featuresOkRefusesFeaturesTheDeviceDidNotOffer() {
        int status = driver.negotiate(VirtioFeature.VERSION_1 | 1L << 40);
        assertEquals(0, status & DeviceStatus.FEATURES_OK);
    }

    @Test
    void negotiationThenDriverOkActivatesWithTheAcceptedFeatures() {
        long accepted = VirtioFeature.VERSION_1 | TestDevice.DEVICE_FEATURE;
        assertEquals(ALL_INIT, driver.negotiate(accepted));
        driver.driverOk();
        assertEquals(ALL_INIT | DeviceStatus.DRIVER_OK, driver.read(STATUS));
        assertEquals(accepted, device.activatedWith);
    }

    @Test
    void driverFeaturesAreFrozenAfterFeaturesOk() {
        driver.negotiate(VirtioFeature.VERSION_1);
        driver.writeDriverFeatures(VirtioFeature.VERSION_1 | TestDevice.DEVICE_FEATURE);
        driver.driverOk();
        assertEquals(VirtioFeature.VERSION_1, device.activatedWith);
    }

    @Test
    void statusBitsOutOfOrderAreRefused() {
        driver.write(STATUS, DeviceStatus.DRIVER);
        assertEquals(0, driver.read(STATUS), "DRIVER before ACKNOWLEDGE");
        driver.write(STATUS, DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.DRIVER_OK);
        assertEquals(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER, driver.read(STATUS), "DRIVER_OK before FEATURES_OK");
        assertEquals(-1, device.activatedWith);
        driver.write(STATUS, DeviceStatus.ACKNOWLEDGE);
        assertEquals(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER, driver.read(STATUS), "bits cannot be cleared");
    }

    @Test
    void writingZeroResetsEverything() {
        driver.negotiate(VirtioFeature.VERSION_1);
        VirtqueueDriver q = VirtqueueDriver.atDefaultLayout(memory, 16);
        driver.setUpQueue(1, q);
        assertEquals(1, driver.read(QUEUE_READY));
        driver.driverOk();
        transport.configChanged();
        assertEquals(0b10, driver.read(INTERRUPT_STATUS));
        int resets = device.resets.get();

        driver.write(STATUS, 0);
        assertEquals(0, driver.read(STATUS));
        assertEquals(0, driver.read(INTERRUPT_STATUS));
        assertEquals(resets + 1, device.resets.get());
        driver.write(QUEUE_SEL, 1);
        assertEquals(0, driver.read(QUEUE_READY));
        assertEquals(ALL_INIT, driver.negotiate(VirtioFeature.VERSION_1), "the device can be initialized again");
    }

    @Test
    void queueRegisters() {
        driver.write(QUEUE_SEL, 0);
        assertEquals(16, driver.read(QUEUE_NUM_MAX));
        driver.write(QUEUE_SEL, 2);
        assertEquals(0, driver.read(QUEUE_NUM_MAX), "no third queue");
        driver.write(QUEUE_READY, 1);
        assertEquals(0, driver.read(QUEUE_READY));

        driver.negotiate(VirtioFeature.VERSION_1);
        driver.setUpQueue(0, VirtqueueDriver.atDefaultLayout(memory, 8));
        assertEquals(1, driver.read(QUEUE_READY));
        driver.write(QUEUE_READY, 0);
        assertEquals(0, driver.read(QUEUE_READY));
    }

    @Test
    void queueWithBadLayoutStaysNotReady() {
        driver.negotiate(VirtioFeature.VERSION_1);
        driver.write(QUEUE_SEL, 0);
        driver.write(QUEUE_NUM, 12); // not a power of two
        driver.write(QUEUE_DESC_LOW, 0);
        driver.write(QUEUE_DRIVER_LOW, 0x8000);
        driver.write(QUEUE_DEVICE_LOW, 0x9000);
        driver.write(QUEUE_READY, 1);
        assertEquals(0, driver.read(QUEUE_READY));
        driver.write(QUEUE_NUM, 16);
        driver.write(QUEUE_DEVICE_HIGH, 1); // 4 GiB + 0x9000: outside RAM
        driver.write(QUEUE_READY, 1);
        assertEquals(0, driver.read(QUEUE_READY));
    }

    @Test
    void configSpaceAndGeneration() {
        assertEquals(0x5566_7788L, transport.read(CONFIG, 4));
        assertEquals(0x1122_3344_5566_7788L, transport.read(CONFIG, 8));
        assertEquals(0x66L, transport.read(CONFIG + 2, 1));
        assertEquals(0, transport.read(CONFIG + 8, 4), "past the end of the config space");

        long generation = driver.read(CONFIG_GENERATION);
        transport.configChanged();
        assertEquals(generation + 1, driver.read(CONFIG_GENERATION));
        assertEquals(1, irq.count());
        assertEquals(0b10, driver.read(INTERRUPT_STATUS));
        driver.write(INTERRUPT_ACK, 0b10);
        assertEquals(0, driver.read(INTERRUPT_STATUS));
        assertFalse(irq.asserted(), "edges only: the line is never left asserted");
    }

    @Test
    void narrowRegisterAccessesAreIgnored() {
        assertEquals(0, transport.read(MAGIC_VALUE, 2));
        assertEquals(0, transport.read(MAGIC_VALUE + 1, 4));
        transport.write(STATUS, 1, DeviceStatus.ACKNOWLEDGE);
        assertEquals(0, driver.read(STATUS));
        driver.write(0x0f0, 1); // unknown register
        assertEquals(0, driver.read(0x0f0));
    }

    @Test
    void kernelCommandLineDevice() {
        assertEquals("virtio_mmio.device=4K@0xd0000000:5", MmioTransport.kernelCommandLineDevice(0xd000_0000L, 5));
    }

    @Test
    void queueNotifyThroughTheBusWakesTheIoThreadAndInterrupts() throws Exception {
        transport.start();
        driver.negotiate(VirtioFeature.VERSION_1);
        VirtqueueDriver q = VirtqueueDriver.atDefaultLayout(memory, 16);
        driver.setUpQueue(1, q);
        driver.driverOk();
        q.addChain(Buffer.writable(DATA, 7));
        driver.write(QUEUE_NOTIFY, 1);
        assertTrue(irq.awaitEdge());
        assertEquals(1, q.usedIdx());
        assertEquals(7, q.usedLength(0));
        assertEquals(0b01, driver.read(INTERRUPT_STATUS));
        driver.write(INTERRUPT_ACK, 0b01);
        assertEquals(0, driver.read(INTERRUPT_STATUS));
    }

    @Test
    void notifyEventFdWakesTheIoThread() throws Exception {
        transport.start();
        driver.negotiate(VirtioFeature.VERSION_1);
        VirtqueueDriver q = VirtqueueDriver.atDefaultLayout(memory, 16);
        driver.setUpQueue(0, q);
        driver.driverOk();
        for (int i = 0; i < 3; i++) {
            q.addChain(Buffer.writable(DATA, 1));
            transport.notifyEventFd(0).signal(); // what a KVM ioeventfd does
            assertTrue(irq.awaitEdge(), "request " + i);
        }
        assertEquals(3, q.usedIdx());
    }

    /** A ready queue 0 of 16 entries, the device at DRIVER_OK and its I/O threads running. */
    private VirtqueueDriver runningQueue() {
        return runningQueue(transport, driver);
    }

    private VirtqueueDriver runningQueue(MmioTransport t, VirtioMmioDriver d) {
        t.start();
        d.negotiate(VirtioFeature.VERSION_1);
        VirtqueueDriver q = VirtqueueDriver.atDefaultLayout(memory, 16);
        d.setUpQueue(0, q);
        d.driverOk();
        return q;
    }

    private void awaitProcessed(int count) throws InterruptedException {
        for (int i = 0; i < 500 && device.processed.get() < count; i++) Thread.sleep(10);
        assertEquals(count, device.processed.get());
    }

    /** The driver resets the device, sets it up again and gets a request served: the device recovered. */
    private void resetAndServeOneRequest() throws InterruptedException {
        driver.write(STATUS, 0);
        driver.negotiate(VirtioFeature.VERSION_1);
        VirtqueueDriver fresh = VirtqueueDriver.atDefaultLayout(memory, 16);
        driver.setUpQueue(0, fresh);
        driver.driverOk();
        assertEquals(0, driver.read(STATUS) & DeviceStatus.DEVICE_NEEDS_RESET);
        fresh.addChain(Buffer.writable(DATA, 2));
        driver.write(QUEUE_NOTIFY, 0);
        assertTrue(irq.awaitEdge(), "the reset device serves a request");
        assertEquals(1, fresh.usedIdx());
    }

    @Test
    void brokenQueueSetsNeedsResetWithConfigInterruptAndResetRecovers() throws Exception {
        VirtqueueDriver q = runningQueue();
        q.setAvailIdx(100); // far more than the queue holds
        driver.write(QUEUE_NOTIFY, 0);
        assertTrue(irq.awaitEdge());
        assertTrue((driver.read(STATUS) & DeviceStatus.DEVICE_NEEDS_RESET) != 0);
        assertEquals(0b10, driver.read(INTERRUPT_STATUS) & 0b10);

        resetAndServeOneRequest();
    }

    static Stream<Throwable> deviceFailures() {
        return Stream.of(new IllegalStateException("device bug"), new StackOverflowError("device bug"));
    }

    /** An exception or an Error (StackOverflowError, OutOfMemoryError) in a device: the I/O thread lives on. */
    @ParameterizedTest
    @MethodSource("deviceFailures")
    void deviceFailureSetsNeedsResetAndTheQueueThreadLivesOn(Throwable failure) throws Exception {
        VirtqueueDriver q = runningQueue();
        device.failure = failure;
        q.addChain(Buffer.writable(DATA, 1));
        driver.write(QUEUE_NOTIFY, 0);
        assertTrue(irq.awaitEdge(), "configuration change interrupt");
        assertTrue((driver.read(STATUS) & DeviceStatus.DEVICE_NEEDS_RESET) != 0);

        device.failure = null;
        resetAndServeOneRequest(); // by the same I/O thread
    }

    /**
     * A guest that makes a new chain available for each one served (as another vCPU can) is served about a
     * queue's worth per wake-up; the rest is served on wake-ups of the device's own, without another notify.
     */
    @Test
    void eachWakeUpServesAtMostAQueuesWorth() throws Exception {
        VirtqueueDriver q = runningQueue();
        int total = 10 * 16;
        java.util.concurrent.atomic.AtomicInteger added = new java.util.concurrent.atomic.AtomicInteger(1);
        device.duringChain = () -> {
            if (added.get() < total) {
                q.addChain(Buffer.writable(DATA, 1));
                added.incrementAndGet();
            }
        };
        q.addChain(Buffer.writable(DATA, 1));
        driver.write(QUEUE_NOTIFY, 0);
        awaitProcessed(total);
        assertTrue(device.maxChainsPerCall.get() <= 16, "chains in one wake-up: " + device.maxChainsPerCall.get());
        assertEquals(total, q.usedIdx());
    }

    /**
     * A reset while the I/O thread works through a long batch waits for the chain in hand at most, and a
     * vCPU reading InterruptStatus meanwhile is not held up by either.
     */
    @Test
    void resetDuringALongBatchTakesBoundedTime() throws Exception {
        VirtqueueDriver q = runningQueue();
        long chainMillis = 200;
        device.duringChain = () -> {
            try {
                Thread.sleep(chainMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        for (int i = 0; i < 16; i++) q.addChain(Buffer.writable(DATA, 1));
        driver.write(QUEUE_NOTIFY, 0);
        awaitProcessed(1); // the batch of 16 x 200 ms is under way

        long start = System.nanoTime();
        Thread resetter = new Thread(() -> driver.write(STATUS, 0));
        resetter.start();
        Thread.sleep(20);
        driver.read(INTERRUPT_STATUS);
        long readMillis = (System.nanoTime() - start) / 1_000_000;
        resetter.join(5000);
        long resetMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(readMillis < 2 * chainMillis, "InterruptStatus read took " + readMillis + " ms");
        assertTrue(resetMillis < 4 * chainMillis, "reset took " + resetMillis + " ms");
        assertEquals(0, driver.read(STATUS));
        int served = device.processed.get();
        Thread.sleep(2 * chainMillis);
        assertEquals(served, device.processed.get(), "nothing served after the reset");
    }

    /**
     * An I/O thread that set USED_BUFFER and is about to send its edge when a reset comes: after the reset
     * InterruptStatus reads 0 and no edge follows (§2.4), so the edge goes out before the reset ends.
     */
    @Test
    void noInterruptEdgeFollowsAReset() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        InterruptLine slowLine = asserted -> {
            if (!asserted) return;
            entered.countDown();
            try {
                release.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            events.add("edge");
        };
        try (MmioTransport slow = new MmioTransport(new TestDevice(1), memory, slowLine)) {
            VirtioMmioDriver d = new VirtioMmioDriver(slow);
            VirtqueueDriver q = runningQueue(slow, d);
            q.addChain(Buffer.writable(DATA, 1));
            d.write(QUEUE_NOTIFY, 0);
            assertTrue(entered.await(5, TimeUnit.SECONDS), "the I/O thread is sending its edge");
            Thread resetter = new Thread(() -> {
                d.write(STATUS, 0);
                events.add("reset");
            });
            resetter.start();
            Thread.sleep(200);
            release.countDown();
            resetter.join(5000);
            assertEquals(List.of("edge", "reset"), events);
            assertEquals(0, d.read(INTERRUPT_STATUS));
        }
    }

    @Test
    void notificationsBeforeDriverOkAreNotServiced() throws Exception {
        transport.start();
        driver.negotiate(VirtioFeature.VERSION_1);
        VirtqueueDriver q = VirtqueueDriver.atDefaultLayout(memory, 16);
        driver.setUpQueue(0, q);
        q.addChain(Buffer.writable(DATA, 1));
        driver.write(QUEUE_NOTIFY, 0);
        Thread.sleep(100);
        assertEquals(0, q.usedIdx());
        driver.driverOk(); // DRIVER_OK services what is already available
        assertTrue(irq.awaitEdge());
        assertEquals(1, q.usedIdx());
    }

    @Test
    void aPausedTransportServicesNothingUntilResumed() throws Exception {
        transport.start();
        driver.negotiate(VirtioFeature.VERSION_1);
        VirtqueueDriver q = VirtqueueDriver.atDefaultLayout(memory, 16);
        driver.setUpQueue(0, q);
        driver.driverOk();
        transport.pause();
        transport.pause();
        q.addChain(Buffer.writable(DATA, 1));
        transport.notifyEventFd(0).signal();
        Thread.sleep(100);
        assertEquals(0, q.usedIdx(), "a request was taken while paused");
        transport.resume();
        assertTrue(irq.awaitEdge());
        assertEquals(1, q.usedIdx());
    }

    @Test
    void closeEndsAPausedTransport() {
        transport.start();
        transport.pause();
        transport.notifyEventFd(0).signal(); // its I/O thread now waits at the gate
        transport.close();
        assertTrue(device.closed);
        assertEquals(0, Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("virtio-TestDevice")).count());
    }

    @Test
    void closeStopsTheThreadsAndClosesTheDevice() {
        transport.start();
        transport.close();
        assertTrue(device.closed);
        long running = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("virtio-TestDevice")).count();
        assertEquals(0, running);
        driver.write(QUEUE_NOTIFY, 0); // a late guest access after close is harmless
        transport.close(); // idempotent
    }

    @Test
    void registersAreNamedAsInTheSpecWithTheirQueue() {
        assertEquals(device.name(), transport.name());
        assertEquals("MagicValue", transport.register(MAGIC_VALUE, false, 0x74726976L));
        assertEquals("QueueNotify q1", transport.register(QUEUE_NOTIFY, true, 1));
        driver.write(QUEUE_SEL, 1);
        assertEquals("QueueNum q1", transport.register(QUEUE_NUM, true, 16));
        assertEquals("QueueDescHigh q1", transport.register(QUEUE_DESC_HIGH, true, 0));
        assertEquals("Status", transport.register(STATUS, true, 0));
        assertEquals("config +0x4", transport.register(CONFIG + 4, false, 0));
        assertEquals("+0xf0", transport.register(0x0f0, false, 0), "no register there: the offset");
    }
}
