package io.jkvm.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jkvm.kvm.sys.RawMemory;
import io.jkvm.memory.GuestMemory;
import io.jkvm.memory.GuestMemoryException;
import java.util.List;
import org.junit.jupiter.api.Test;

class IoVectorTest {
    /** The struct iovec at entry {@code i} of what is left: {base, len}. */
    private static long[] entry(IoVector v, int i) {
        long at = v.remainingAddress() + (long) i * IoVector.IOVEC_SIZE;
        return new long[] {RawMemory.getLong(at), RawMemory.getLong(at + 8)};
    }

    @Test
    void holdsHostAddressesAndResumesAfterAShortTransfer() {
        try (GuestMemory m = GuestMemory.allocate(0x10000)) {
            IoVector v = new IoVector(3);
            v.add(m, 0x1000, 100);
            v.add(m, 0x3000, 50);
            v.add(m, 0x5000, 10);
            assertEquals(160, v.remainingBytes());
            assertEquals(3, v.remainingEntries());
            assertEquals(m.hostAddress(0x1000, 100), entry(v, 0)[0]);
            assertEquals(50, entry(v, 1)[1]);

            v.consume(130); // all of the first buffer, 30 bytes of the second
            assertEquals(2, v.remainingEntries());
            assertEquals(30, v.remainingBytes());
            assertEquals(m.hostAddress(0x3000 + 30, 20), entry(v, 0)[0]);
            assertEquals(20, entry(v, 0)[1]);

            m.fill(0x3000, 0x10, (byte) 0x11);
            m.fill(0x3000 + 30, 20, (byte) 0x7f);
            m.fill(0x5000, 10, (byte) 0x7f);
            v.zeroRemaining();
            assertEquals(0, v.remainingBytes());
            assertEquals(0, m.readByte(0x3000 + 49));
            assertEquals(0, m.readByte(0x5000 + 9));
            assertEquals(0x11, m.readByte(0x3000), "the part already transferred is left alone");

            v.clear();
            assertEquals(0, v.remainingEntries());
            assertEquals(0, v.remainingBytes());
        }
    }

    @Test
    void refusesBuffersOutsideGuestMemoryAndMoreThanItsCapacity() {
        try (GuestMemory m = GuestMemory.allocate(0x10000)) {
            IoVector v = new IoVector(2);
            for (long[] bad : List.of(new long[] {0xf000, 0x1001}, new long[] {0x10000, 1}, new long[] {-4096, 8192},
                    new long[] {0x1000, Long.MAX_VALUE}, new long[] {0x1000, -1})) {
                assertThrows(GuestMemoryException.class, () -> v.add(m, bad[0], bad[1]));
            }
            assertEquals(0, v.remainingEntries(), "nothing half-added");
            v.add(m, 0, 1);
            v.add(m, 1, 1);
            assertThrows(IllegalStateException.class, () -> v.add(m, 2, 1));
        }
        assertThrows(IllegalArgumentException.class, () -> new IoVector(0));
        assertThrows(IllegalArgumentException.class, () -> new IoVector(IoVector.IOV_MAX + 1));
    }
}
