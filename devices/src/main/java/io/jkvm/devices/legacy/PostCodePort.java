package io.jkvm.devices.legacy;

import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import io.jkvm.snapshot.Stateful;

/**
 * The POST code port (0x80 on a PC): firmware and test guests write progress codes to it, and Linux
 * writes it as an I/O delay (outb_p). It latches the last byte written and reads it back, as the
 * port-80 latch of PC chipsets does; {@link #lastCode()} lets the host see how far a guest got.
 * Thread-safe. Its saved state is the latched byte.
 */
public final class PostCodePort extends ByteRegisters implements Stateful {
    private volatile int lastCode;

    /** The last byte written, 0 if none. */
    public int lastCode() {
        return lastCode;
    }

    @Override
    public String name() {
        return "post-code";
    }

    @Override
    public void saveState(StateWriter out) {
        out.u8(lastCode);
    }

    @Override
    public void restoreState(StateReader in) {
        lastCode = in.u8();
    }

    @Override
    int readByte(long offset) {
        return offset == 0 ? lastCode : FLOATING_BUS;
    }

    @Override
    void writeByte(long offset, int value) {
        if (offset == 0) lastCode = value;
    }
}
