package io.jkvm.devices.virtio;

/** Device-independent feature bits (virtio 1.2 §6 "Reserved Feature Bits"), as masks over the 64-bit feature word. */
public final class VirtioFeature {
    private VirtioFeature() {}

    /** §2.7.5.3: the driver may use indirect descriptor tables. */
    public static final long RING_INDIRECT_DESC = 1L << 28;
    /** §2.7.7, §2.7.10: used_event / avail_event notification suppression. */
    public static final long RING_EVENT_IDX = 1L << 29;
    /** §6: a modern (non-legacy) device; FEATURES_OK is refused without it. */
    public static final long VERSION_1 = 1L << 32;

    /** The bits every jkvm virtio device offers on top of its own. */
    public static final long TRANSPORT_FEATURES = VERSION_1 | RING_INDIRECT_DESC | RING_EVENT_IDX;
}
