package io.jkvm.devices.virtio;

/** The device status field (virtio 1.2 §2.1): bits the driver sets in order while it initializes the device. */
public final class DeviceStatus {
    private DeviceStatus() {}

    public static final int ACKNOWLEDGE = 0b0000_0001;
    public static final int DRIVER = 0b0000_0010;
    public static final int DRIVER_OK = 0b0000_0100;
    public static final int FEATURES_OK = 0b0000_1000;
    /** Set by the device only (§2.1.2), after an error it cannot recover from without a reset. */
    public static final int DEVICE_NEEDS_RESET = 0b0100_0000;
    public static final int FAILED = 0b1000_0000;
}
