package io.jkvm.io;

import io.jkvm.kvm.sys.LibC;
import io.jkvm.kvm.sys.Native;
import io.jkvm.kvm.sys.Tun;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A TAP network interface opened through {@code /dev/net/tun} with {@code IFF_TAP | IFF_NO_PI | IFF_VNET_HDR}
 * and a 12-byte vnet header (struct virtio_net_hdr_v1, virtio 1.2 §5.1.6): every read yields one frame
 * behind the header the host stack filled in, every write takes one frame behind the guest's header.
 * The fd is non-blocking: readiness comes from poll(2) on {@link #readinessFd()}.
 */
public final class Tap implements FrameChannel {
    /** virtio 1.2 §5.1.6: sizeof(struct virtio_net_hdr_v1), the header in front of every frame. */
    public static final int VNET_HEADER_SIZE = 12;

    private final String name;
    private final int fd;
    private final PollSet writable = new PollSet(1);
    private boolean closed;

    private Tap(String name, int fd) {
        this.name = name;
        this.fd = fd;
        writable.set(0, fd, Native.POLLOUT);
    }

    /**
     * Attaches to the TAP {@code name}, creating it if absent (creating needs CAP_NET_ADMIN, attaching to a
     * persistent TAP needs its owner or group). Throws IOException with a one-line reason.
     */
    public static Tap open(String name) throws IOException {
        byte[] ascii = name.getBytes(StandardCharsets.US_ASCII);
        if (ascii.length == 0 || ascii.length >= Tun.IFNAMSIZ)
            throw new IOException("TAP name must be 1-" + (Tun.IFNAMSIZ - 1) + " characters: '" + name + "'");
        int fd = LibC.INSTANCE.open(Tun.CLONE_DEVICE, Native.O_RDWR | Native.O_CLOEXEC | Native.O_NONBLOCK, 0);
        if (fd < 0) throw new IOException(Tun.CLONE_DEVICE + ": " + Native.strerror(Native.errno()));
        try {
            ByteBuffer ifreq = ByteBuffer.allocateDirect(Tun.IFREQ_SIZE).order(ByteOrder.nativeOrder());
            ifreq.put(0, ascii).putShort(Tun.IFREQ_FLAGS, (short) (Tun.IFF_TAP | Tun.IFF_NO_PI | Tun.IFF_VNET_HDR));
            if (LibC.INSTANCE.ioctl(fd, Tun.TUNSETIFF, Native.address(ifreq)) != 0) {
                int errno = Native.errno();
                throw new IOException("cannot attach to TAP '" + name + "': " + Native.strerror(errno) + switch (errno) {
                    case Native.EPERM -> " (creating a TAP needs CAP_NET_ADMIN; to use an existing one, create it"
                            + " for this user: ip tuntap add dev " + name + " mode tap user $USER)";
                    case Native.EBUSY -> " (another process is attached to it)";
                    case Native.EINVAL -> " (an interface of that name exists and is no TAP)";
                    default -> "";
                });
            }
            ByteBuffer size = ByteBuffer.allocateDirect(Integer.BYTES).order(ByteOrder.nativeOrder());
            size.putInt(0, VNET_HEADER_SIZE);
            if (LibC.INSTANCE.ioctl(fd, Tun.TUNSETVNETHDRSZ, Native.address(size)) != 0)
                throw new IOException("TAP '" + name + "': TUNSETVNETHDRSZ: " + Native.strerror(Native.errno()));
            Tap tap = new Tap(name, fd);
            tap.setOffloads(0);
            return tap;
        } catch (IOException | RuntimeException e) {
            LibC.INSTANCE.close(fd);
            throw e;
        }
    }

    public String name() {
        return name;
    }

    @Override
    public long receive(IoVector buffers) throws IOException {
        while (true) {
            long n = LibC.INSTANCE.readv(fd, buffers.remainingAddress(), buffers.remainingEntries());
            if (n >= 0) return n;
            int errno = Native.errno();
            if (errno == Native.EAGAIN) return NO_FRAME;
            if (errno != Native.EINTR) throw new IOException("TAP '" + name + "': readv: " + Native.strerror(errno));
        }
    }

    @Override
    public void send(IoVector buffers) throws IOException {
        while (true) {
            long n = LibC.INSTANCE.writev(fd, buffers.remainingAddress(), buffers.remainingEntries());
            if (n == buffers.remainingBytes()) return;
            if (n >= 0) throw new IOException("TAP '" + name + "': writev took " + n + " of " + buffers.remainingBytes() + " bytes");
            int errno = Native.errno();
            if (errno == Native.EAGAIN) writable.await(1);
            else if (errno != Native.EINTR) throw new IOException("TAP '" + name + "': writev: " + Native.strerror(errno));
        }
    }

    @Override
    public int readinessFd() {
        return fd;
    }

    @Override
    public void setOffloads(int tunFlags) throws IOException {
        if (LibC.INSTANCE.ioctl(fd, Tun.TUNSETOFFLOAD, tunFlags) != 0)
            throw new IOException("TAP '" + name + "': TUNSETOFFLOAD " + tunFlags + ": " + Native.strerror(Native.errno()));
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        LibC.INSTANCE.close(fd);
    }
}
