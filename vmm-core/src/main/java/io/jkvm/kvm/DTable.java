package io.jkvm.kvm;

import io.jkvm.kvm.sys.KvmStructs;
import java.nio.ByteBuffer;

/** A descriptor-table register, GDTR or IDTR (struct kvm_dtable): linear base and 16-bit limit. */
public record DTable(long base, int limit) {
    static DTable read(ByteBuffer b, int at) {
        return new DTable(b.getLong(at + KvmStructs.Dtable.BASE),
                Short.toUnsignedInt(b.getShort(at + KvmStructs.Dtable.LIMIT)));
    }

    void write(ByteBuffer b, int at) {
        b.putLong(at + KvmStructs.Dtable.BASE, base);
        b.putShort(at + KvmStructs.Dtable.LIMIT, (short) limit);
    }

    @Override
    public String toString() {
        return String.format("base=%016x limit=%04x", base, limit);
    }
}
