package io.jkvm.kvm.sys;

/**
 * The TUN/TAP driver's user interface (linux/if_tun.h, Documentation/networking/tuntap.rst): ioctl numbers
 * (computed like _IOW('T', nr, int)), TUNSETIFF flags, TUNSETOFFLOAD flags and the struct ifreq layout.
 */
public final class Tun {
    private Tun() {}

    public static final String CLONE_DEVICE = "/dev/net/tun";

    /** _IOW('T', nr, int): direction write (1 << 30), size 4, type 'T'. */
    private static long iowInt(int nr) {
        return (1L << 30) | ((long) Integer.BYTES << 16) | ('T' << 8) | nr;
    }

    public static final long TUNSETIFF = iowInt(202);
    public static final long TUNSETOFFLOAD = iowInt(208);
    public static final long TUNSETVNETHDRSZ = iowInt(216);

    // TUNSETIFF ifr_flags
    public static final short IFF_TAP = 0x0002;
    public static final short IFF_NO_PI = 0x1000;
    public static final short IFF_VNET_HDR = 0x4000;

    // TUNSETOFFLOAD: offloads the reader of the TAP (the guest) accepts
    public static final int TUN_F_CSUM = 0x01;
    public static final int TUN_F_TSO4 = 0x02;
    public static final int TUN_F_TSO6 = 0x04;
    public static final int TUN_F_TSO_ECN = 0x08;
    public static final int TUN_F_UFO = 0x10;

    /** struct ifreq (linux/if.h): char ifr_name[IFNAMSIZ]; then a union whose short ifr_flags is at 16. */
    public static final int IFREQ_SIZE = 40;
    public static final int IFNAMSIZ = 16;
    public static final int IFREQ_FLAGS = 16;
}
