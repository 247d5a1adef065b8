package io.jkvm.boot.acpi;

import java.util.Arrays;

/**
 * A growable little-endian byte sink for AML and ACPI table encoding. Public only because
 * {@link AmlTerm#encode} names it; nothing outside this package can create or fill one.
 */
public final class ByteWriter {
    private byte[] bytes = new byte[64];
    private int size;

    ByteWriter() {}

    ByteWriter u8(int v) {
        ensure(1);
        bytes[size++] = (byte) v;
        return this;
    }

    ByteWriter u16(int v) {
        return u8(v).u8(v >>> 8);
    }

    ByteWriter u32(long v) {
        return u16((int) v).u16((int) (v >>> 16));
    }

    ByteWriter u64(long v) {
        return u32(v).u32(v >>> 32);
    }

    ByteWriter bytes(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, bytes, size, b.length);
        size += b.length;
        return this;
    }

    /** Appends {@code body} preceded by its PkgLength (ACPI 6.4 §20.2.4). */
    ByteWriter withPkgLength(byte[] body) {
        return bytes(PkgLength.encode(body.length)).bytes(body);
    }

    int size() {
        return size;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(bytes, size);
    }

    private void ensure(int more) {
        if (size + more > bytes.length) bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
    }
}
