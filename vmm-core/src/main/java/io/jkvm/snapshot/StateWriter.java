package io.jkvm.snapshot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds a saved state in memory: little-endian fixed-width values, length-prefixed byte strings, and named
 * {@linkplain #section sections}. A section is its name, the length of its body, then the body that one
 * {@link Stateful} wrote, so a reader can tell which object a body belongs to and that the object read all
 * of it. Writing only grows a heap buffer; the caller writes {@link #toByteArray()} to a file.
 */
public final class StateWriter {
    private ByteBuffer buf = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);

    public StateWriter u8(int v) {
        room(1).put((byte) v);
        return this;
    }

    public StateWriter u16(int v) {
        room(2).putShort((short) v);
        return this;
    }

    public StateWriter u32(int v) {
        room(4).putInt(v);
        return this;
    }

    public StateWriter u64(long v) {
        room(8).putLong(v);
        return this;
    }

    public StateWriter bool(boolean v) {
        return u8(v ? 1 : 0);
    }

    /** A byte string: its length as a u32, then the bytes. */
    public StateWriter bytes(byte[] v) {
        u32(v.length);
        room(v.length).put(v);
        return this;
    }

    public StateWriter string(String v) {
        return bytes(v.getBytes(StandardCharsets.UTF_8));
    }

    /** A named section holding what {@code part} saves. */
    public StateWriter section(String name, Stateful part) {
        string(name);
        int lengthAt = buf.position();
        u32(0);
        part.saveState(this);
        buf.putInt(lengthAt, buf.position() - lengthAt - 4);
        return this;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buf.array(), buf.position());
    }

    private ByteBuffer room(int n) {
        if (buf.remaining() < n) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + n))
                    .order(ByteOrder.LITTLE_ENDIAN);
            buf.flip();
            bigger.put(buf);
            buf = bigger;
        }
        return buf;
    }
}
