package io.jkvm.devices.virtio;

import io.jkvm.bus.BusDevice;
import io.jkvm.bus.InterruptLine;
import io.jkvm.io.EventFd;
import io.jkvm.memory.GuestMemory;
import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import io.jkvm.snapshot.Stateful;

/**
 * The virtio-mmio register file, version 2 (modern only; virtio 1.2 §4.2.2), in front of a {@link VirtioDevice}.
 * Register it on the MMIO bus with a {@link #WINDOW_SIZE} window.
 *
 * <p><b>Notifications.</b> Each queue has an {@link EventFd}; the machine registers it as a KVM ioeventfd on
 * {@link #QUEUE_NOTIFY_OFFSET} (4 bytes, datamatch = queue index), so QueueNotify writes stay in the kernel.
 * A QueueNotify write that does reach {@link #write} signals the same eventfd. One I/O thread per queue
 * ({@link #start()}, stopped by {@link #close()}) waits on it and services the queue. {@link #pause()} stops
 * the I/O threads from taking requests (those in flight finish first) until {@link #resume()}.
 *
 * <p><b>Interrupts.</b> Every used-buffer or configuration-change event sets its bit in InterruptStatus and
 * calls {@link InterruptLine#trigger()} once: an edge, as through a KVM irqfd on an edge-triggered IOAPIC pin
 * (what Firecracker does). Linux's vm_interrupt reads InterruptStatus and acknowledges exactly the bits it
 * read, so an event that arrives meanwhile keeps its bit and brings its own edge; nothing is lost. The line is
 * never left asserted, so InterruptACK needs no de-assert. An event raised for the device as it was before a
 * reset is dropped ({@link InterruptStatus}).
 *
 * <p><b>Errors.</b> Register accesses that are not 32-bit aligned, or to unknown offsets, are ignored (read 0)
 * and logged once. A broken queue or a device failure sets DEVICE_NEEDS_RESET with a configuration-change
 * interrupt (§2.1.2); the VM runs on and the driver may reset the device by writing 0 to Status.
 *
 * <p><b>Snapshots.</b> {@link #saveState} needs the transport {@linkplain #pause() paused}: then no request
 * is in flight (a device finishes every chain it takes within one service), so the registers, each queue's
 * layout and indices, and the device's own state are all there is. {@link #restoreState} goes into a
 * transport fresh from construction over the same device configuration, before any vCPU runs: it checks every
 * value as the registers would have, re-derives what the negotiation set (ring features, the device's
 * {@link VirtioDevice#activate}), raises an interrupt again if InterruptStatus was not 0, and wakes every
 * queue of a live device, so ready queues are served (and readiness fds re-armed) as after DRIVER_OK. The I/O
 * threads may be {@linkplain #start() started} before or after; a paused transport serves after
 * {@link #resume()}.
 */
public final class MmioTransport implements BusDevice, AutoCloseable, Stateful {
    /** The size of the register window the machine maps for one device. */
    public static final long WINDOW_SIZE = 0x1000;
    /** Offset of QueueNotify, where the machine places the per-queue ioeventfds. */
    public static final long QUEUE_NOTIFY_OFFSET = 0x050;

    // §4.2.2 Table "MMIO Device Register Layout"
    private static final int MAGIC_VALUE = 0x000;
    private static final int VERSION = 0x004;
    private static final int DEVICE_ID = 0x008;
    private static final int VENDOR_ID = 0x00c;
    private static final int DEVICE_FEATURES = 0x010;
    private static final int DEVICE_FEATURES_SEL = 0x014;
    private static final int DRIVER_FEATURES = 0x020;
    private static final int DRIVER_FEATURES_SEL = 0x024;
    private static final int QUEUE_SEL = 0x030;
    private static final int QUEUE_NUM_MAX = 0x034;
    private static final int QUEUE_NUM = 0x038;
    private static final int QUEUE_READY = 0x044;
    private static final int QUEUE_NOTIFY = (int) QUEUE_NOTIFY_OFFSET;
    private static final int INTERRUPT_STATUS = 0x060;
    private static final int INTERRUPT_ACK = 0x064;
    private static final int STATUS = 0x070;
    private static final int QUEUE_DESC_LOW = 0x080;
    private static final int QUEUE_DESC_HIGH = 0x084;
    private static final int QUEUE_DRIVER_LOW = 0x090;
    private static final int QUEUE_DRIVER_HIGH = 0x094;
    private static final int QUEUE_DEVICE_LOW = 0x0a0;
    private static final int QUEUE_DEVICE_HIGH = 0x0a4;
    private static final int SHM_SEL = 0x0ac;
    private static final int SHM_LEN_LOW = 0x0b0;
    private static final int SHM_LEN_HIGH = 0x0b4;
    private static final int SHM_BASE_LOW = 0x0b8;
    private static final int SHM_BASE_HIGH = 0x0bc;
    private static final int QUEUE_RESET = 0x0c0;
    private static final int CONFIG_GENERATION = 0x0fc;
    private static final int CONFIG = 0x100;

    /** "virt" in little-endian (§4.2.2). */
    private static final int MAGIC = 0x74726976;
    private static final int MMIO_VERSION = 2;
    /** "JKVM" in little-endian; drivers do not interpret the vendor ID. */
    private static final int VENDOR = 0x4d564b4a;

    // §4.2.2 InterruptStatus bits
    static final int INTERRUPT_USED_BUFFER = 0b01;
    static final int INTERRUPT_CONFIG_CHANGE = 0b10;

    private final VirtioDevice device;
    private final InterruptStatus interrupts;
    private final Virtqueue[] queues;
    private final EventFd[] notify;
    private final QueueWorker[] workers;
    private final GuestErrorLog log;
    private final PauseGate gate = new PauseGate();

    private volatile int status;
    private volatile int configGeneration;
    private int deviceFeaturesSel;
    private int driverFeaturesSel;
    private long driverFeatures;
    private int queueSel;
    private boolean closed;
    /** Guards {@link #notifyClosed}: a device's host-side thread must not signal an eventfd being closed. */
    private final Object notifyLock = new Object();
    private boolean notifyClosed;

    public MmioTransport(VirtioDevice device, GuestMemory memory, InterruptLine interrupt) {
        this.device = device;
        this.interrupts = new InterruptStatus(interrupt);
        String name = "virtio-" + device.getClass().getSimpleName();
        this.log = new GuestErrorLog(MmioTransport.class, name);
        int count = device.queueCount();
        queues = new Virtqueue[count];
        notify = new EventFd[count];
        workers = new QueueWorker[count];
        try {
            for (int i = 0; i < count; i++) {
                queues[i] = new Virtqueue(memory, device.maxQueueSize(), log);
                notify[i] = new EventFd();
                int index = i;
                workers[i] = new QueueWorker(name + "-q" + i, notify[i], () -> serviceUnlessPaused(index),
                        failure -> deviceFailed(index, failure), () -> readinessFd(index));
            }
        } catch (RuntimeException e) {
            for (EventFd fd : notify) if (fd != null) fd.close();
            throw e;
        }
        device.bindQueueService(this::requestService);
    }

    /** Wakes queue {@code queue}'s I/O thread on the device's behalf (see {@link VirtioDevice#bindQueueService}). */
    private void requestService(int queue) {
        synchronized (notifyLock) {
            if (!notifyClosed && queue >= 0 && queue < notify.length) notify[queue].signal();
        }
    }

    /**
     * The kernel command-line form of device discovery for a device at {@code base} with interrupt
     * {@code irq}: {@code virtio_mmio.device=4K@0xd0000000:5} (Linux drivers/virtio/virtio_mmio.c).
     */
    public static String kernelCommandLineDevice(long base, int irq) {
        return String.format("virtio_mmio.device=%dK@%#x:%d", WINDOW_SIZE / 1024, base, irq);
    }

    public VirtioDevice device() {
        return device;
    }

    public int queueCount() {
        return queues.length;
    }

    /** The eventfd that wakes queue {@code queue}'s I/O thread: register it as a KVM ioeventfd. */
    public EventFd notifyEventFd(int queue) {
        return notify[queue];
    }

    /** Starts the per-queue I/O threads. */
    public synchronized void start() {
        if (closed) throw new IllegalStateException("transport closed");
        for (QueueWorker w : workers) w.start();
    }

    /**
     * The machine is pausing: returns once no queue is being serviced; notifications that arrive meanwhile
     * are serviced after {@link #resume()}. Pausing a paused transport changes nothing.
     */
    public void pause() {
        gate.pause();
    }

    /** The machine goes on: the I/O threads take requests again. Resuming a running transport changes nothing. */
    public void resume() {
        gate.resume();
    }

    /** Stops the I/O threads (waiting for them, paused or not), then closes the eventfds and the device. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        gate.close();
        synchronized (notifyLock) {
            notifyClosed = true;
        }
        for (QueueWorker w : workers) w.stop();
        for (EventFd fd : notify) fd.close();
        device.close();
    }

    /**
     * A device configuration change (§2.5.1, §4.2.2): bumps ConfigGeneration and raises the configuration
     * change interrupt.
     */
    public void configChanged() {
        synchronized (this) {
            configGeneration++;
        }
        interrupts.raise(INTERRUPT_CONFIG_CHANGE, interrupts.epoch());
    }

    /** The device's name: {@code virtio-blk}. */
    @Override
    public String name() {
        return device.name();
    }

    /**
     * The register's name in §4.2.2's table; a queue register with the queue it applies to (QueueSel, or
     * for QueueNotify the queue written), a configuration-space access with its offset there.
     */
    @Override
    public synchronized String register(long offset, boolean write, long value) {
        if (offset >= CONFIG) return String.format("config +%#x", offset - CONFIG);
        String selected = " q" + queueSel;
        return switch ((int) offset) {
            case MAGIC_VALUE -> "MagicValue";
            case VERSION -> "Version";
            case DEVICE_ID -> "DeviceID";
            case VENDOR_ID -> "VendorID";
            case DEVICE_FEATURES -> "DeviceFeatures";
            case DEVICE_FEATURES_SEL -> "DeviceFeaturesSel";
            case DRIVER_FEATURES -> "DriverFeatures";
            case DRIVER_FEATURES_SEL -> "DriverFeaturesSel";
            case QUEUE_SEL -> "QueueSel";
            case QUEUE_NUM_MAX -> "QueueNumMax" + selected;
            case QUEUE_NUM -> "QueueNum" + selected;
            case QUEUE_READY -> "QueueReady" + selected;
            case QUEUE_NOTIFY -> "QueueNotify q" + value;
            case INTERRUPT_STATUS -> "InterruptStatus";
            case INTERRUPT_ACK -> "InterruptACK";
            case STATUS -> "Status";
            case QUEUE_DESC_LOW -> "QueueDescLow" + selected;
            case QUEUE_DESC_HIGH -> "QueueDescHigh" + selected;
            case QUEUE_DRIVER_LOW -> "QueueDriverLow" + selected;
            case QUEUE_DRIVER_HIGH -> "QueueDriverHigh" + selected;
            case QUEUE_DEVICE_LOW -> "QueueDeviceLow" + selected;
            case QUEUE_DEVICE_HIGH -> "QueueDeviceHigh" + selected;
            case SHM_SEL -> "SHMSel";
            case SHM_LEN_LOW -> "SHMLenLow";
            case SHM_LEN_HIGH -> "SHMLenHigh";
            case SHM_BASE_LOW -> "SHMBaseLow";
            case SHM_BASE_HIGH -> "SHMBaseHigh";
            case QUEUE_RESET -> "QueueReset" + selected;
            case CONFIG_GENERATION -> "ConfigGeneration";
            default -> BusDevice.super.register(offset, write, value);
        };
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (offset >= CONFIG) return device.readConfig((int) (offset - CONFIG), size);
        if (!wordAccess(offset, size)) return 0;
        Virtqueue q = selectedQueue();
        long value = switch ((int) offset) {
            case MAGIC_VALUE -> MAGIC;
            case VERSION -> MMIO_VERSION;
            case DEVICE_ID -> device.deviceId();
            case VENDOR_ID -> VENDOR;
            case DEVICE_FEATURES -> featureWord(device.features(), deviceFeaturesSel);
            case QUEUE_NUM_MAX -> q == null ? 0 : q.maxSize();
            case QUEUE_READY -> q != null && q.ready() ? 1 : 0;
            case INTERRUPT_STATUS -> interrupts.read();
            case STATUS -> status;
            case CONFIG_GENERATION -> configGeneration;
            // §4.2.2: a shared memory region that does not exist has length and base all-ones
            case SHM_LEN_LOW, SHM_LEN_HIGH, SHM_BASE_LOW, SHM_BASE_HIGH -> 0xffff_ffffL;
            default -> {
                log.warnOnce("register-read", String.format("read of write-only or unknown register %#x", offset));
                yield 0;
            }
        };
        return value & 0xffff_ffffL;
    }

    @Override
    public void write(long offset, int size, long value) {
        if (offset >= CONFIG) {
            synchronized (this) {
                device.writeConfig((int) (offset - CONFIG), size, value);
            }
            return;
        }
        if (!wordAccess(offset, size)) return;
        if (offset == STATUS && (value & 0xff) == 0) {
            reset(); // waits for the chains in hand: never under this transport's lock
            return;
        }
        synchronized (this) {
            writeRegister((int) offset, (int) value);
        }
    }

    private void writeRegister(int offset, int v) {
        Virtqueue q = selectedQueue();
        switch (offset) {
            case DEVICE_FEATURES_SEL -> deviceFeaturesSel = v;
            case DRIVER_FEATURES -> writeDriverFeatures(v);
            case DRIVER_FEATURES_SEL -> driverFeaturesSel = v;
            case QUEUE_SEL -> queueSel = v;
            case QUEUE_NUM -> { if (q != null) q.setSize(v); }
            case QUEUE_READY -> { if (q != null) writeQueueReady(q, v); }
            case QUEUE_NOTIFY -> { if (!closed && v >= 0 && v < notify.length) notify[v].signal(); }
            case INTERRUPT_ACK -> interrupts.acknowledge(v);
            case STATUS -> writeStatus(v & 0xff);
            case QUEUE_DESC_LOW -> { if (q != null) q.setDescriptorTable(low(q.descriptorTable(), v)); }
            case QUEUE_DESC_HIGH -> { if (q != null) q.setDescriptorTable(high(q.descriptorTable(), v)); }
            case QUEUE_DRIVER_LOW -> { if (q != null) q.setAvailRing(low(q.availRing(), v)); }
            case QUEUE_DRIVER_HIGH -> { if (q != null) q.setAvailRing(high(q.availRing(), v)); }
            case QUEUE_DEVICE_LOW -> { if (q != null) q.setUsedRing(low(q.usedRing(), v)); }
            case QUEUE_DEVICE_HIGH -> { if (q != null) q.setUsedRing(high(q.usedRing(), v)); }
            default -> log.warnOnce("register-write", String.format("write of read-only or unknown register %#x", offset));
        }
    }

    private boolean wordAccess(long offset, int size) {
        if (size == 4 && (offset & 0b11) == 0) return true;
        // §4.2.2.2: the driver MUST use 32-bit wide and aligned accesses for the control registers
        log.warnOnce("register-width", String.format("%d-byte access at register offset %#x ignored", size, offset));
        return false;
    }

    private Virtqueue selectedQueue() {
        return queueSel >= 0 && queueSel < queues.length ? queues[queueSel] : null;
    }

    private static long featureWord(long features, int sel) {
        return switch (sel) {
            case 0 -> features & 0xffff_ffffL;
            case 1 -> features >>> 32;
            default -> 0;
        };
    }

    private static long low(long old, int v) {
        return (old & 0xffff_ffff_0000_0000L) | (v & 0xffff_ffffL);
    }

    private static long high(long old, int v) {
        return (old & 0xffff_ffffL) | ((long) v << 32);
    }

    /** Feature words are accepted between DRIVER and FEATURES_OK (§3.1.1). */
    private void writeDriverFeatures(int v) {
        if ((status & DeviceStatus.DRIVER) == 0 || (status & DeviceStatus.FEATURES_OK) != 0) {
            log.warnOnce("features-late", "driver features written outside feature negotiation; ignored");
            return;
        }
        switch (driverFeaturesSel) {
            case 0 -> driverFeatures = low(driverFeatures, v);
            case 1 -> driverFeatures = high(driverFeatures, v);
            default -> { } // §4.2.2: only two feature words exist; others are ignored
        }
    }

    private void writeQueueReady(Virtqueue q, int v) {
        if (v == 0) {
            q.disable();
        } else if (!q.ready() && !q.enable()) {
            log.warnOnce("queue-ready", "QueueReady refused for a bad queue layout; it reads back 0");
        }
    }

    /**
     * §2.1, §3.1.1: the driver only adds bits, in the order ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK;
     * FEATURES_OK is withheld unless the driver accepted VIRTIO_F_VERSION_1 and only offered features;
     * writing 0 resets the device. A bit whose precondition is missing is not set (the driver re-reads Status).
     */
    private void writeStatus(int value) {
        int old = status;
        if ((old & ~value & ~DeviceStatus.DEVICE_NEEDS_RESET) != 0) {
            log.warnOnce("status-clear", String.format("status write %#x would clear bits of %#x; ignored", value, old));
            return;
        }
        int next = old;
        if ((value & DeviceStatus.ACKNOWLEDGE) != 0) next |= DeviceStatus.ACKNOWLEDGE;
        if ((value & DeviceStatus.DRIVER) != 0 && (next & DeviceStatus.ACKNOWLEDGE) != 0) next |= DeviceStatus.DRIVER;
        if ((value & DeviceStatus.FEATURES_OK) != 0 && (next & DeviceStatus.DRIVER) != 0 && featuresAcceptable())
            next |= DeviceStatus.FEATURES_OK;
        if ((value & DeviceStatus.DRIVER_OK) != 0 && (next & DeviceStatus.FEATURES_OK) != 0) next |= DeviceStatus.DRIVER_OK;
        if ((value & DeviceStatus.FAILED) != 0) next |= DeviceStatus.FAILED;
        int known = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK
                | DeviceStatus.DRIVER_OK | DeviceStatus.FAILED;
        if ((value & known & ~next) != 0)
            log.warnOnce("status-order", String.format("status bits %#x refused (out of order or features not acceptable)",
                    value & known & ~next));
        boolean featuresOk = (old & DeviceStatus.FEATURES_OK) == 0 && (next & DeviceStatus.FEATURES_OK) != 0;
        boolean driverOk = (old & DeviceStatus.DRIVER_OK) == 0 && (next & DeviceStatus.DRIVER_OK) != 0;
        if (featuresOk) for (Virtqueue q : queues) q.setFeatures(driverFeatures);
        if (driverOk) device.activate(driverFeatures);
        status = next;
        // Buffers made available before DRIVER_OK get serviced now.
        if (driverOk && !closed) for (EventFd fd : notify) fd.signal();
    }

    private boolean featuresAcceptable() {
        return (driverFeatures & VirtioFeature.VERSION_1) != 0 && (driverFeatures & ~device.features()) == 0;
    }

    /**
     * Status 0 (§2.4): the queues hand out no more chains and the ones in the device's hands complete (one
     * request each at most); then every register returns to its initial value. The wait happens without
     * this transport's lock, so other vCPUs' register accesses (InterruptStatus reads) go on meanwhile.
     */
    private void reset() {
        for (Virtqueue q : queues) q.stopAfterChainInHand();
        synchronized (this) {
            status = 0;
            for (Virtqueue q : queues) q.reset();
            device.reset();
            driverFeatures = 0;
            deviceFeaturesSel = driverFeaturesSel = queueSel = 0;
            interrupts.reset();
        }
    }

    /** The statuses a driver can reach, bit by bit in order (§3.1.1), the device adding DEVICE_NEEDS_RESET last. */
    private static final int[] REACHABLE_STATUS_STEPS = {DeviceStatus.ACKNOWLEDGE, DeviceStatus.DRIVER,
            DeviceStatus.FEATURES_OK, DeviceStatus.DRIVER_OK, DeviceStatus.DEVICE_NEEDS_RESET};

    @Override
    public synchronized void saveState(StateWriter out) {
        if (!gate.quiet()) throw new IllegalStateException("pause the transport before saving its state");
        out.u32(device.deviceId()).u64(device.features());
        out.u32(status).u32(configGeneration).u32(deviceFeaturesSel).u32(driverFeaturesSel).u64(driverFeatures);
        out.u32(queueSel).u32(interrupts.read()).u32(queues.length);
        for (int i = 0; i < queues.length; i++) out.section("queue" + i, queues[i]);
        out.section("device", device);
    }

    @Override
    public synchronized void restoreState(StateReader in) {
        int id = in.u32();
        long offered = in.u64();
        if (id != device.deviceId() || offered != device.features())
            throw new SnapshotFormatException(String.format("the snapshot holds virtio device %d with features %#x, "
                    + "this machine has device %d with features %#x here", id, offered, device.deviceId(), device.features()));
        int savedStatus = in.u32();
        configGeneration = in.u32();
        deviceFeaturesSel = in.u32();
        driverFeaturesSel = in.u32();
        driverFeatures = in.u64();
        queueSel = in.u32();
        int pending = in.u32();
        in.u32InRange("the queue count", queues.length, queues.length);
        checkStatus(savedStatus);
        if ((pending & ~(INTERRUPT_USED_BUFFER | INTERRUPT_CONFIG_CHANGE)) != 0)
            throw new SnapshotFormatException(String.format("InterruptStatus %#x has bits virtio-mmio does not define", pending));
        for (int i = 0; i < queues.length; i++) in.section("queue" + i, queues[i]);
        in.section("device", device);
        status = savedStatus;
        if ((status & DeviceStatus.FEATURES_OK) != 0) for (Virtqueue q : queues) q.setFeatures(driverFeatures);
        if ((status & DeviceStatus.DRIVER_OK) != 0) {
            device.activate(driverFeatures);
            for (EventFd fd : notify) fd.signal();
        }
        interrupts.restore(pending);
    }

    /** A status {@link #writeStatus} could have produced: bits in order, features acceptable once FEATURES_OK. */
    private void checkStatus(int s) {
        int expected = 0;
        for (int step : REACHABLE_STATUS_STEPS) {
            if ((s & step) == 0) break;
            expected |= step;
        }
        expected |= s & DeviceStatus.FAILED; // the driver may give up at any point
        boolean featuresWrong = (s & DeviceStatus.FEATURES_OK) != 0 && !featuresAcceptable();
        if (s != expected || featuresWrong)
            throw new SnapshotFormatException(String.format("device status %#x with driver features %#x is not one "
                    + "a driver can reach (virtio 1.2 §3.1.1; device features %#x)", s, driverFeatures, device.features()));
    }

    /** Runs on queue {@code index}'s I/O thread after each notification, once the machine is not paused. */
    private void serviceUnlessPaused(int index) {
        if (!gate.enter()) return;
        try {
            serviceQueue(index);
        } finally {
            gate.exit();
        }
    }

    /** Queue {@code index}, for the fuzz harness and tests of this package. */
    Virtqueue queue(int index) {
        return queues[index];
    }

    /** The device's readiness fd for queue {@code index} while the device is live and the queue ready, else -1. */
    private int readinessFd(int index) {
        int s = status;
        if ((s & DeviceStatus.DRIVER_OK) == 0 || (s & DeviceStatus.DEVICE_NEEDS_RESET) != 0 || !queues[index].ready()) return -1;
        return device.readinessFd(index);
    }

    /**
     * Services queue {@code index} (see {@link #serviceUnlessPaused}; the fuzz harness calls it directly,
     * without the thread, and sees what the device throws). On the thread, what the device throws, an Error
     * included, goes to the I/O thread's failure handler, {@link #deviceFailed}.
     */
    void serviceQueue(int index) {
        Virtqueue q = queues[index];
        int epoch = interrupts.epoch(); // before Status: what this service raises belongs to this incarnation
        int s = status;
        if ((s & DeviceStatus.DRIVER_OK) == 0 || (s & DeviceStatus.DEVICE_NEEDS_RESET) != 0 || !q.ready()) return;
        boolean cut;
        try {
            device.processQueue(index, q);
        } finally {
            cut = q.endBatch();
        }
        if (q.needsInterrupt()) interrupts.raise(INTERRUPT_USED_BUFFER, epoch);
        if (q.broken()) enterNeedsReset(epoch);
        else if (cut) notify[index].signal(); // the rest on a wake-up of its own, after status is checked again
    }

    /** The device (or the JVM: OutOfMemoryError, StackOverflowError) failed on a queue's I/O thread: logged once. */
    private void deviceFailed(int index, Throwable failure) {
        log.errorOnce("device-failure", "device failed while processing queue " + index, failure);
        enterNeedsReset(interrupts.epoch());
    }

    /** §2.1.2: DEVICE_NEEDS_RESET plus a configuration change notification, unless reset since {@code epoch}. */
    private void enterNeedsReset(int epoch) {
        synchronized (this) {
            int s = status;
            if ((s & DeviceStatus.DRIVER_OK) == 0 || epoch != interrupts.epoch()) return; // reset meanwhile
            status = s | DeviceStatus.DEVICE_NEEDS_RESET;
        }
        interrupts.raise(INTERRUPT_CONFIG_CHANGE, epoch);
    }
}
