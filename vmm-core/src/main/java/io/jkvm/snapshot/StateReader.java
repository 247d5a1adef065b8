package io.jkvm.snapshot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads what a {@link StateWriter} wrote, in the same order. Every read is bounds-checked: running past the
 * end, a length larger than what is left, a section with another name, or a section its object did not read
 * to the end is a {@link SnapshotFormatException} naming the place.
 */
public final class StateReader {
    private final ByteBuffer buf;

    public StateReader(byte[] state) {
        this.buf = ByteBuffer.wrap(state).order(ByteOrder.LITTLE_ENDIAN);
    }

    public int u8() {
        return Byte.toUnsignedInt(need(1).get());
    }

    public int u16() {
        return Short.toUnsignedInt(need(2).getShort());
    }

    public int u32() {
        return need(4).getInt();
    }

    public long u64() {
        return need(8).getLong();
    }

    public boolean bool() {
        int v = u8();
        if (v > 1) throw new SnapshotFormatException("a boolean holds " + v + " at byte " + (buf.position() - 1));
        return v == 1;
    }

    /** A u32 that must lie in [min, max], for counts and indices a restore will use. */
    public int u32InRange(String what, int min, int max) {
        int v = u32();
        if (v < min || v > max) {
            throw new SnapshotFormatException(what + " is " + Integer.toUnsignedString(v) + ", outside [" + min + ", " + max + "]");
        }
        return v;
    }

    public byte[] bytes() {
        int n = u32();
        if (n < 0 || n > buf.remaining()) {
            throw new SnapshotFormatException("a byte string of " + Integer.toUnsignedString(n) + " bytes at byte "
                    + (buf.position() - 4) + " runs past the end of the state (" + buf.remaining() + " left)");
        }
        byte[] v = new byte[n];
        buf.get(v);
        return v;
    }

    /** A byte string that must be exactly {@code length} bytes long. */
    public byte[] bytes(String what, int length) {
        byte[] v = bytes();
        if (v.length != length) throw new SnapshotFormatException(what + " is " + v.length + " bytes, not " + length);
        return v;
    }

    public String string() {
        return new String(bytes(), StandardCharsets.UTF_8);
    }

    /** Reads the section {@code name} into {@code part}, which must consume all of it. */
    public void section(String name, Stateful part) {
        String found = string();
        if (!found.equals(name)) throw new SnapshotFormatException("expected the state of " + name + ", found " + found);
        int length = u32();
        if (length < 0 || length > buf.remaining()) {
            throw new SnapshotFormatException("the state of " + name + " claims " + Integer.toUnsignedString(length)
                    + " bytes, " + buf.remaining() + " are left");
        }
        int end = buf.position() + length;
        ByteBuffer whole = buf.duplicate();
        buf.limit(end);
        try {
            part.restoreState(this);
            if (buf.position() != end) {
                throw new SnapshotFormatException("the state of " + name + " has " + (end - buf.position()) + " bytes its device did not read");
            }
        } finally {
            buf.limit(whole.limit());
        }
    }

    /** Whether everything has been read; a restore checks this at the end. */
    public boolean atEnd() {
        return !buf.hasRemaining();
    }

    private ByteBuffer need(int n) {
        if (buf.remaining() < n) {
            throw new SnapshotFormatException("the state ends at byte " + buf.position() + " where " + n + " more were expected");
        }
        return buf;
    }
}
