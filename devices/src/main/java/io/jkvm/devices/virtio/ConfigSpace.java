package io.jkvm.devices.virtio;

import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import io.jkvm.snapshot.Stateful;
import java.util.Arrays;

/**
 * A device configuration space (virtio 1.2 §2.5): little-endian fields laid out in a fixed byte array.
 * The devices' spaces are read-only for the driver and come from the machine's configuration, so its saved
 * state is a check: a restore into a space with other bytes (another disk size, MAC or CID) is refused.
 */
public final class ConfigSpace implements Stateful {
    private final byte[] bytes;

    public ConfigSpace(int size) {
        this.bytes = new byte[size];
    }

    public void put8(int offset, int value) {
        bytes[offset] = (byte) value;
    }

    public void put16(int offset, int value) {
        putLittleEndian(offset, 2, value);
    }

    public void put32(int offset, long value) {
        putLittleEndian(offset, 4, value);
    }

    public void put64(int offset, long value) {
        putLittleEndian(offset, 8, value);
    }

    private void putLittleEndian(int offset, int size, long value) {
        for (int i = 0; i < size; i++) bytes[offset + i] = (byte) (value >>> (8 * i));
    }

    /** {@code size} bytes at {@code offset}, little-endian; bytes past the end of the space read as 0. */
    public long read(int offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            int at = offset + i;
            if (at >= 0 && at < bytes.length) value |= (bytes[at] & 0xffL) << (8 * i);
        }
        return value;
    }

    @Override
    public void saveState(StateWriter out) {
        out.bytes(bytes);
    }

    @Override
    public void restoreState(StateReader in) {
        byte[] saved = in.bytes("the configuration space", bytes.length);
        int at = Arrays.mismatch(saved, bytes);
        if (at >= 0)
            throw new SnapshotFormatException(String.format("configuration byte %d is %#x in the snapshot but %#x here: "
                    + "the device must be built from the snapshot's configuration", at, saved[at] & 0xff, bytes[at] & 0xff));
    }
}
