package io.jkvm.io;

import java.io.IOException;

/**
 * A host-side carrier of whole Ethernet frames, each preceded by a virtio_net_hdr (a TAP with IFF_VNET_HDR):
 * one frame per {@link #receive}, one per {@link #send}, straight between the channel and guest buffers.
 */
public interface FrameChannel extends AutoCloseable {
    /** {@link #receive}'s answer when no frame is waiting. */
    long NO_FRAME = -1;

    /**
     * Reads one frame into {@code buffers} without blocking. Returns its length (vnet header included), which
     * is more than {@code buffers} holds if the frame did not fit (then only a part was copied), or
     * {@link #NO_FRAME}.
     */
    long receive(IoVector buffers) throws IOException;

    /** Writes {@code buffers} as one frame, waiting (not spinning) while the channel cannot take it. */
    void send(IoVector buffers) throws IOException;

    /** A file descriptor that polls readable while a frame is waiting. */
    int readinessFd();

    /** The offloads the reader of received frames accepts: {@code TUN_F_*} bits of {@link io.jkvm.kvm.sys.Tun}. */
    void setOffloads(int tunFlags) throws IOException;

    @Override
    void close();
}
