package io.jkvm.devices.virtio.net;

/**
 * struct virtio_net_hdr_v1 (virtio 1.2 §5.1.6), the 12 bytes in front of every frame on both queues:
 * {@code u8 flags, u8 gso_type, le16 hdr_len, le16 gso_size, le16 csum_start, le16 csum_offset, le16 num_buffers}.
 * The TAP reads and writes the first ten; jkvm fills in num_buffers on receive.
 */
final class NetHeader {
    private NetHeader() {}

    /** With VIRTIO_F_VERSION_1 the header always has num_buffers, so it is 12 bytes (§5.1.6.1). */
    static final int SIZE = 12;
    static final int GSO_TYPE = 1;
    static final int NUM_BUFFERS = 10;
    /** gso_type values: VIRTIO_NET_HDR_GSO_NONE, and the ECN bit that may go with any of them. */
    static final int GSO_NONE = 0, GSO_ECN = 0x80;

    /** 14: destination and source address, EtherType (IEEE 802.3). */
    static final int ETHERNET_HEADER = 14;
    /** 4: an 802.1Q tag a frame may carry on top of its MTU. */
    static final int VLAN_TAG = 4;
    /** The MTU when the device offers none (§5.1.6.3.1 sizes small buffers for it: 1526 bytes with the header). */
    static final int DEFAULT_MTU = 1500;
    /**
     * §5.1.6.3.1: with GUEST_TSO4 or GUEST_TSO6 (or GUEST_UFO, not offered) a received frame may take 65562 bytes with the
     * header: a 64 KiB segment (an IP packet of at most 65535 bytes) behind the Ethernet header.
     */
    static final int MAX_GSO_FRAME = 65562;
}
