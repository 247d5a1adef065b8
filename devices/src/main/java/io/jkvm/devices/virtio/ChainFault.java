package io.jkvm.devices.virtio;

/**
 * Why a descriptor chain (virtio 1.2 §2.7.5) is malformed. Such a chain is returned to the driver unused
 * (used length 0) and never reaches the device model.
 */
public enum ChainFault {
    /** A {@code next} or head index at or beyond the size of its descriptor table. */
    INDEX_OUT_OF_RANGE,
    /** More descriptors than the table holds: the chain loops (§2.7.5.3.1: not longer than Queue Size). */
    LOOP,
    /** More buffers than the device's chain capacity. */
    TOO_LONG,
    /** VIRTQ_DESC_F_INDIRECT without VIRTIO_F_RING_INDIRECT_DESC negotiated. */
    INDIRECT_NOT_NEGOTIATED,
    /** An indirect descriptor inside an indirect table (§2.7.5.3.1). */
    NESTED_INDIRECT,
    /** VIRTQ_DESC_F_INDIRECT together with VIRTQ_DESC_F_NEXT (§2.7.5.3.1). */
    INDIRECT_WITH_NEXT,
    /** An indirect table length that is zero or not a multiple of 16 (§2.7.5.3). */
    INDIRECT_LENGTH,
    /** An indirect table that is not wholly inside guest RAM. */
    INDIRECT_OUTSIDE_RAM,
    /**
     * A non-empty buffer not wholly inside guest RAM, or whose address + length wraps: no byte of the chain,
     * not even a status byte, is touched.
     */
    BUFFER_OUTSIDE_RAM,
    /** A device-readable buffer after a device-writable one (§2.7.4.2). */
    READABLE_AFTER_WRITABLE
}
