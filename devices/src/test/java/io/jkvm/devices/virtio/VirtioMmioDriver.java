package io.jkvm.devices.virtio;

/** Register-level steps of a virtio-mmio driver (virtio 1.2 §3.1.1, §4.2.3) for tests. */
public final class VirtioMmioDriver {
    public static final int MAGIC_VALUE = 0x000, VERSION = 0x004, DEVICE_ID = 0x008, VENDOR_ID = 0x00c,
            DEVICE_FEATURES = 0x010, DEVICE_FEATURES_SEL = 0x014, DRIVER_FEATURES = 0x020, DRIVER_FEATURES_SEL = 0x024,
            QUEUE_SEL = 0x030, QUEUE_NUM_MAX = 0x034, QUEUE_NUM = 0x038, QUEUE_READY = 0x044, QUEUE_NOTIFY = 0x050,
            INTERRUPT_STATUS = 0x060, INTERRUPT_ACK = 0x064, STATUS = 0x070, QUEUE_DESC_LOW = 0x080,
            QUEUE_DESC_HIGH = 0x084, QUEUE_DRIVER_LOW = 0x090, QUEUE_DRIVER_HIGH = 0x094, QUEUE_DEVICE_LOW = 0x0a0,
            QUEUE_DEVICE_HIGH = 0x0a4, SHM_LEN_LOW = 0x0b0, CONFIG_GENERATION = 0x0fc, CONFIG = 0x100;

    private final MmioTransport transport;

    public VirtioMmioDriver(MmioTransport transport) {
        this.transport = transport;
    }

    public long read(int register) {
        return transport.read(register, 4);
    }

    public void write(int register, long value) {
        transport.write(register, 4, value);
    }

    public long deviceFeatures() {
        write(DEVICE_FEATURES_SEL, 0);
        long low = read(DEVICE_FEATURES);
        write(DEVICE_FEATURES_SEL, 1);
        return low | read(DEVICE_FEATURES) << 32;
    }

    public void writeDriverFeatures(long features) {
        write(DRIVER_FEATURES_SEL, 0);
        write(DRIVER_FEATURES, features & 0xffff_ffffL);
        write(DRIVER_FEATURES_SEL, 1);
        write(DRIVER_FEATURES, features >>> 32);
    }

    /** ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns the status read back. */
    public int negotiate(long features) {
        write(STATUS, 0);
        write(STATUS, DeviceStatus.ACKNOWLEDGE);
        write(STATUS, DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        writeDriverFeatures(features);
        write(STATUS, DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK);
        return (int) read(STATUS);
    }

    public void setUpQueue(int index, VirtqueueDriver queue) {
        write(QUEUE_SEL, index);
        write(QUEUE_NUM, queue.size());
        write(QUEUE_DESC_LOW, queue.descriptorTable() & 0xffff_ffffL);
        write(QUEUE_DESC_HIGH, queue.descriptorTable() >>> 32);
        write(QUEUE_DRIVER_LOW, queue.availRing() & 0xffff_ffffL);
        write(QUEUE_DRIVER_HIGH, queue.availRing() >>> 32);
        write(QUEUE_DEVICE_LOW, queue.usedRing() & 0xffff_ffffL);
        write(QUEUE_DEVICE_HIGH, queue.usedRing() >>> 32);
        write(QUEUE_READY, 1);
    }

    public void driverOk() {
        write(STATUS, read(STATUS) | DeviceStatus.DRIVER_OK);
    }
}
