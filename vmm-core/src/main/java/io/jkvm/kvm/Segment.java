package io.jkvm.kvm;

import io.jkvm.kvm.sys.KvmStructs;
import java.nio.ByteBuffer;

/**
 * A segment register's hidden state (struct kvm_segment): base, limit, selector and the descriptor's
 * attribute bits (Intel SDM Vol. 3 §3.4.5). {@code type} is the 4-bit type field, {@code s} the
 * code/data (vs system) bit, {@code db} the default-size bit, {@code l} the 64-bit code bit.
 */
public record Segment(long base, int limit, int selector, int type, boolean present, int dpl, boolean db,
                      boolean s, boolean l, boolean g, boolean avl, boolean unusable) {

    static Segment read(ByteBuffer b, int at) {
        return new Segment(b.getLong(at + KvmStructs.Segment.BASE), b.getInt(at + KvmStructs.Segment.LIMIT),
                Short.toUnsignedInt(b.getShort(at + KvmStructs.Segment.SELECTOR)),
                Byte.toUnsignedInt(b.get(at + KvmStructs.Segment.TYPE)), flag(b, at + KvmStructs.Segment.PRESENT),
                Byte.toUnsignedInt(b.get(at + KvmStructs.Segment.DPL)), flag(b, at + KvmStructs.Segment.DB),
                flag(b, at + KvmStructs.Segment.S), flag(b, at + KvmStructs.Segment.L),
                flag(b, at + KvmStructs.Segment.G), flag(b, at + KvmStructs.Segment.AVL),
                flag(b, at + KvmStructs.Segment.UNUSABLE));
    }

    void write(ByteBuffer b, int at) {
        b.putLong(at + KvmStructs.Segment.BASE, base);
        b.putInt(at + KvmStructs.Segment.LIMIT, limit);
        b.putShort(at + KvmStructs.Segment.SELECTOR, (short) selector);
        b.put(at + KvmStructs.Segment.TYPE, (byte) type);
        b.put(at + KvmStructs.Segment.PRESENT, bit(present));
        b.put(at + KvmStructs.Segment.DPL, (byte) dpl);
        b.put(at + KvmStructs.Segment.DB, bit(db));
        b.put(at + KvmStructs.Segment.S, bit(s));
        b.put(at + KvmStructs.Segment.L, bit(l));
        b.put(at + KvmStructs.Segment.G, bit(g));
        b.put(at + KvmStructs.Segment.AVL, bit(avl));
        b.put(at + KvmStructs.Segment.UNUSABLE, bit(unusable));
    }

    static boolean flag(ByteBuffer b, int at) {
        return b.get(at) != 0;
    }

    static byte bit(boolean v) {
        return (byte) (v ? 1 : 0);
    }

    @Override
    public String toString() {
        return String.format("sel=%04x base=%016x limit=%08x type=%x p=%d dpl=%d db=%d s=%d l=%d g=%d avl=%d%s",
                selector, base, limit, type, bit(present), dpl, bit(db), bit(s), bit(l), bit(g), bit(avl),
                unusable ? " unusable" : "");
    }
}
