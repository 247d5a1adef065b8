package io.jkvm.devices.virtio.block;

import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.readable;
import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.writable;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.devices.virtio.VirtioFeature;
import io.jkvm.devices.virtio.VirtqueueDriver;
import io.jkvm.devices.virtio.VirtqueueDriver.Buffer;
import io.jkvm.io.FaultyFileSyscalls;
import io.jkvm.io.RawFile;
import io.jkvm.memory.GuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VirtioBlockTest {
    private static final long RAM = 1 << 20;
    private static final int SECTORS = 64;
    private static final long HEADER = 0x10000;
    private static final long DATA = 0x20000;
    private static final long DATA2 = 0x40000;
    private static final long STATUS = 0x30000;
    private static final long INDIRECT_TABLE = 0x50000;
    private static final int OK = 0, IOERR = 1, UNSUPP = 2;
    private static final int T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_DISCARD = 11, T_WRITE_ZEROES = 13;

    @TempDir
    Path dir;
    private Path image;
    private byte[] original;
    private final GuestMemory memory = GuestMemory.allocate(RAM);
    private VirtioBlock block;
    private VirtqueueDriver driver;

    @BeforeEach
    void setUp() throws IOException {
        image = dir.resolve("disk.img");
        original = new byte[SECTORS * 512];
        for (int i = 0; i < original.length; i++) original[i] = (byte) (i * 7 + i / 512);
        Files.write(image, original);
        use(VirtioBlock.open(image, false, "jkvm-disk-0"));
    }

    private void use(VirtioBlock device) {
        if (block != null) block.close();
        block = device;
        long negotiated = device.features();
        block.activate(negotiated);
        driver = VirtqueueDriver.withQueue(memory, VirtioBlock.QUEUE_SIZE, negotiated);
    }

    @AfterEach
    void tearDown() {
        block.close();
        memory.close();
    }

    private void header(int type, long sector) {
        ByteBuffer h = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(type).putInt(0).putLong(sector);
        memory.write(HEADER, h.array());
    }

    /** Submits one chain, lets the device process it, returns the status byte; the used length is checked by callers. */
    private int submit(Buffer... buffers) {
        memory.writeByte(STATUS, (byte) 0x7f);
        driver.addChain(buffers);
        block.processQueue(0, driver.queue());
        return memory.readByte(STATUS);
    }

    private int lastUsedLength() {
        return driver.usedLength(driver.usedIdx() - 1);
    }

    private byte[] fileBytes() throws IOException {
        return Files.readAllBytes(image);
    }

    private byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte) (seed + i * 13);
        return b;
    }

    @Test
    void configSpaceAndFeatures() {
        assertEquals(SECTORS, block.readConfig(0, 8), "capacity");
        assertEquals(VirtioBlock.SEG_MAX, block.readConfig(12, 4), "seg_max");
        assertEquals(512, block.readConfig(20, 4), "blk_size");
        assertEquals(VirtioBlock.MAX_RANGES, block.readConfig(40, 4), "max_discard_seg");
        assertEquals(1, block.readConfig(56, 1), "write_zeroes_may_unmap");
        long f = block.features();
        assertTrue((f & VirtioFeature.VERSION_1) != 0);
        assertEquals(0, f & VirtioBlock.VIRTIO_BLK_F_RO);
        assertTrue((f & VirtioBlock.VIRTIO_BLK_F_FLUSH) != 0);
        assertTrue((f & VirtioBlock.VIRTIO_BLK_F_DISCARD) != 0);
        assertEquals(2, block.deviceId());
    }

    @Test
    void readFillsScatteredBuffers() {
        header(T_IN, 2);
        assertEquals(OK, submit(readable(HEADER, 16), writable(DATA, 512), writable(DATA2, 512), writable(STATUS, 1)));
        assertArrayEquals(Arrays.copyOfRange(original, 1024, 1536), memory.read(DATA, 512));
        assertArrayEquals(Arrays.copyOfRange(original, 1536, 2048), memory.read(DATA2, 512));
        assertEquals(1025, lastUsedLength());
    }

    @Test
    void writeStoresGuestData() throws IOException {
        byte[] data = pattern(1024, 3);
        memory.write(DATA, data);
        header(T_OUT, 5);
        assertEquals(OK, submit(readable(HEADER, 16), readable(DATA, 1024), writable(STATUS, 1)));
        assertEquals(1, lastUsedLength());
        byte[] expected = original.clone();
        System.arraycopy(data, 0, expected, 5 * 512, 1024);
        assertArrayEquals(expected, fileBytes());
    }

    @Test
    void headerAndDataMayShareAndSplitBuffers() throws IOException {
        // header split 8 + 8, the second half followed by the data in the same buffer (§2.7.4 framing)
        header(T_OUT, 1);
        byte[] data = pattern(512, 9);
        memory.write(DATA, Arrays.copyOfRange(memory.read(HEADER, 16), 8, 16));
        memory.write(DATA + 8, data);
        assertEquals(OK, submit(readable(HEADER, 8), readable(DATA, 8 + 512), writable(STATUS, 1)));
        assertArrayEquals(data, Arrays.copyOfRange(fileBytes(), 512, 1024));
    }

    @Test
    void indirectRequest() {
        header(T_IN, 0);
        driver.addIndirectChain(INDIRECT_TABLE, readable(HEADER, 16), writable(DATA, 512), writable(STATUS, 1));
        block.processQueue(0, driver.queue());
        assertEquals(OK, memory.readByte(STATUS));
        assertArrayEquals(Arrays.copyOfRange(original, 0, 512), memory.read(DATA, 512));
    }

    @Test
    void flush() {
        header(T_FLUSH, 0);
        assertEquals(OK, submit(readable(HEADER, 16), writable(STATUS, 1)));
        assertEquals(1, lastUsedLength());
    }

    /** This test's image, reopened with its descriptor's calls going through {@code faults}. */
    private void useFaulty(FaultyFileSyscalls faults) throws IOException {
        block.close(); // releases the exclusive lock
        use(VirtioBlock.open(RawFile.open(image, false, faults), "faulty"));
    }

    /**
     * Linux reports a writeback error to one fdatasync; a later one may return 0 though the pages are lost.
     * After one failed flush every flush and write fails, as in QEMU's file driver, until the device is reset.
     */
    @Test
    void aFailedFlushFailsEveryLaterFlushAndWriteUntilReset() throws IOException {
        FaultyFileSyscalls faults = new FaultyFileSyscalls();
        useFaulty(faults);
        faults.failNextFdatasync(5 /* EIO */);
        header(T_FLUSH, 0);
        assertEquals(IOERR, submit(readable(HEADER, 16), writable(STATUS, 1)));
        assertEquals(IOERR, submit(readable(HEADER, 16), writable(STATUS, 1)), "the second flush fails too");
        memory.write(DATA, pattern(512, 9));
        header(T_OUT, 0);
        assertEquals(IOERR, submit(readable(HEADER, 16), readable(DATA, 512), writable(STATUS, 1)));
        header(T_IN, 0);
        assertEquals(OK, submit(readable(HEADER, 16), writable(DATA, 512), writable(STATUS, 1)), "reads still work");
        assertArrayEquals(original, fileBytes());

        block.reset();
        block.activate(block.features());
        header(T_FLUSH, 0);
        assertEquals(OK, submit(readable(HEADER, 16), writable(STATUS, 1)), "a reset device starts afresh");
    }

    @Test
    void getIdReturnsTheNulPaddedId() {
        memory.fill(DATA, 20, (byte) 0x55);
        header(T_GET_ID, 0);
        assertEquals(OK, submit(readable(HEADER, 16), writable(DATA, 20), writable(STATUS, 1)));
        byte[] expected = new byte[20];
        System.arraycopy("jkvm-disk-0".getBytes(), 0, expected, 0, 11);
        assertArrayEquals(expected, memory.read(DATA, 20));
        assertEquals(21, lastUsedLength());
    }

    @Test
    void rangesPastTheCapacityFailAndLeaveTheFileAlone() throws IOException {
        memory.write(DATA, pattern(1024, 1));
        header(T_OUT, SECTORS - 1);
        assertEquals(IOERR, submit(readable(HEADER, 16), readable(DATA, 1024), writable(STATUS, 1)));
        header(T_OUT, -1L); // sector 2^64-1: sector + count overflows
        assertEquals(IOERR, submit(readable(HEADER, 16), readable(DATA, 1024), writable(STATUS, 1)));
        header(T_OUT, SECTORS);
        assertEquals(IOERR, submit(readable(HEADER, 16), readable(DATA, 512), writable(STATUS, 1)));
        header(T_IN, SECTORS - 1);
        assertEquals(IOERR, submit(readable(HEADER, 16), writable(DATA, 1024), writable(STATUS, 1)));
        header(T_IN, SECTORS - 1);
        assertEquals(OK, submit(readable(HEADER, 16), writable(DATA, 512), writable(STATUS, 1)), "the last sector");
        assertArrayEquals(original, fileBytes());
    }

    @Test
    void lengthNotAMultipleOfTheSectorSizeFails() throws IOException {
        header(T_OUT, 0);
        assertEquals(IOERR, submit(readable(HEADER, 16), readable(DATA, 100), writable(STATUS, 1)));
        assertArrayEquals(original, fileBytes());
    }

    @Test
    void dataBuffersInTheWrongDirectionFail() throws IOException {
        header(T_IN, 0);
        assertEquals(IOERR, submit(readable(HEADER, 16), readable(DATA, 512), writable(STATUS, 1)));
        header(T_OUT, 0);
        memory.write(DATA, pattern(512, 5));
        assertEquals(IOERR, submit(readable(HEADER, 16), writable(DATA, 512), writable(STATUS, 1)));
        assertArrayEquals(original, fileBytes());
    }

    @Test
    void readOnlyDiskRefusesWrites() throws IOException {
        block.close(); // releases the exclusive lock
        use(VirtioBlock.open(image, true, "ro"));
        long f = block.features();
        assertTrue((f & VirtioBlock.VIRTIO_BLK_F_RO) != 0);
        assertEquals(0, f & (VirtioBlock.VIRTIO_BLK_F_DISCARD | VirtioBlock.VIRTIO_BLK_F_WRITE_ZEROES));
        memory.write(DATA, pattern(512, 2));
        header(T_OUT, 0);
        assertEquals(IOERR, submit(readable(HEADER, 16), readable(DATA, 512), writable(STATUS, 1)));
        header(T_WRITE_ZEROES, 0);
        discardRange(DATA, 0, 1, 0);
        assertEquals(UNSUPP, submit(readable(HEADER, 16), readable(DATA, 16), writable(STATUS, 1)));
        header(T_IN, 0);
        assertEquals(OK, submit(readable(HEADER, 16), writable(DATA, 512), writable(STATUS, 1)));
        assertArrayEquals(original, fileBytes());
    }

    @Test
    void unknownRequestTypeIsUnsupported() {
        header(99, 0);
        assertEquals(UNSUPP, submit(readable(HEADER, 16), writable(STATUS, 1)));
    }

    /** A chain with any buffer outside guest RAM is returned unused: no I/O, no status byte, used length 0. */
    @Test
    void buffersOutsideGuestRamAreReturnedUnused() throws IOException {
        memory.write(DATA, pattern(512, 4));
        header(T_OUT, 0);
        assertEquals(0x7f, submit(readable(HEADER, 16), readable(DATA, 512), readable(RAM - 256, 512), writable(STATUS, 1)));
        assertEquals(0, lastUsedLength());
        header(T_OUT, 0);
        assertEquals(0x7f, submit(readable(HEADER, 16), readable(-512L, 1024), writable(STATUS, 1)));
        assertEquals(0, lastUsedLength());
        header(T_IN, 0);
        assertEquals(0x7f, submit(readable(HEADER, 16), writable(RAM, 512), writable(STATUS, 1)));
        assertEquals(0, lastUsedLength());
        assertArrayEquals(original, fileBytes());
    }

    /**
     * A status buffer at 0xFFFF_FFFF_FFFF_F000 of 0x1001 bytes: addr + len - 1 wraps to guest address 0 (here
     * the descriptor table). The chain is not wholly in RAM: it goes back with used length 0, nothing written.
     */
    @Test
    void statusBufferWhoseEndWrapsIsNeverWritten() throws IOException {
        header(T_IN, 0);
        driver.addChain(readable(HEADER, 16), writable(DATA, 512), writable(0xffff_ffff_ffff_f000L, 0x1001));
        byte[] table = memory.read(0, 64);
        block.processQueue(0, driver.queue());
        assertEquals(1, driver.usedIdx());
        assertEquals(0, driver.usedLength(0));
        assertArrayEquals(table, memory.read(0, 64), "guest address 0 untouched");
    }

    @Test
    void requestWithoutStatusByteIsReturnedEmpty() throws IOException {
        header(T_OUT, 0);
        driver.addChain(readable(HEADER, 16), readable(DATA, 512));
        block.processQueue(0, driver.queue());
        assertEquals(1, driver.usedIdx());
        assertEquals(0, driver.usedLength(0));
        assertArrayEquals(original, fileBytes());
    }

    @Test
    void malformedChainIsDroppedAndTheNextRequestIsServed() throws IOException {
        header(T_OUT, 0);
        memory.write(DATA, pattern(512, 6));
        // a loop: 0 -> 1 -> 0
        driver.writeDescriptor(0, HEADER, 16, VirtqueueDriver.F_NEXT, 1);
        driver.writeDescriptor(1, DATA, 512, VirtqueueDriver.F_NEXT, 0);
        driver.makeAvailable(0);
        driver.writeDescriptor(10, HEADER, 16, VirtqueueDriver.F_NEXT, 11);
        driver.writeDescriptor(11, STATUS, 1, VirtqueueDriver.F_WRITE, 0);
        header(T_FLUSH, 0);
        driver.makeAvailable(10);
        block.processQueue(0, driver.queue());
        assertEquals(2, driver.usedIdx());
        assertEquals(0, driver.usedLength(0));
        assertEquals(10, driver.usedId(1));
        assertEquals(OK, memory.readByte(STATUS));
        assertArrayEquals(original, fileBytes());
    }

    private void discardRange(long address, long sector, long sectors, int flags) {
        ByteBuffer r = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        r.putLong(sector).putInt((int) sectors).putInt(flags);
        memory.write(address, r.array());
    }

    @Test
    void discardAndWriteZeroesReadBackZeros() throws IOException {
        header(T_DISCARD, 0);
        discardRange(DATA, 8, 8, 0);
        assertEquals(OK, submit(readable(HEADER, 16), readable(DATA, 16), writable(STATUS, 1)));
        byte[] discarded = original.clone();
        Arrays.fill(discarded, 8 * 512, 16 * 512, (byte) 0);
        assertArrayEquals(writeZeroesOfSectors20And30(discarded), fileBytes());
        assertEquals(SECTORS * 512, Files.size(image));
    }

    /** WRITE_ZEROES of sectors 20-21 and, unmap allowed, 30; returns {@code before} with those sectors zeroed. */
    private byte[] writeZeroesOfSectors20And30(byte[] before) {
        header(T_WRITE_ZEROES, 0);
        discardRange(DATA, 20, 2, 0);
        discardRange(DATA + 16, 30, 1, 1);
        assertEquals(OK, submit(readable(HEADER, 16), readable(DATA, 32), writable(STATUS, 1)));
        byte[] expected = before.clone();
        Arrays.fill(expected, 20 * 512, 22 * 512, (byte) 0);
        Arrays.fill(expected, 30 * 512, 31 * 512, (byte) 0);
        return expected;
    }

    /**
     * On a file system that cannot punch holes or zero ranges (fallocate: EOPNOTSUPP), DISCARD completes as
     * the hint it is and WRITE_ZEROES, with or without unmap, writes zeros.
     */
    @Test
    void withoutFallocateDiscardIsAHintAndWriteZeroesWritesZeros() throws IOException {
        FaultyFileSyscalls faults = new FaultyFileSyscalls();
        faults.fallocateErrno = 95; // EOPNOTSUPP
        useFaulty(faults);
        header(T_DISCARD, 0);
        discardRange(DATA, 8, 8, 0);
        assertEquals(OK, submit(readable(HEADER, 16), readable(DATA, 16), writable(STATUS, 1)));
        assertArrayEquals(original, fileBytes(), "a discard that cannot deallocate leaves the data");
        assertArrayEquals(writeZeroesOfSectors20And30(original), fileBytes());
    }

    @Test
    void badDiscardRangesTouchNothing() throws IOException {
        header(T_DISCARD, 0);
        discardRange(DATA, 0, 1, 1); // unmap on discard
        assertEquals(UNSUPP, submit(readable(HEADER, 16), readable(DATA, 16), writable(STATUS, 1)));
        header(T_WRITE_ZEROES, 0);
        discardRange(DATA, 0, 1, 0b10); // unknown flag
        assertEquals(UNSUPP, submit(readable(HEADER, 16), readable(DATA, 16), writable(STATUS, 1)));
        header(T_WRITE_ZEROES, 0);
        discardRange(DATA, 0, 4, 0); // valid ...
        discardRange(DATA + 16, SECTORS - 1, 2, 0); // ... then past the end: nothing is done
        assertEquals(IOERR, submit(readable(HEADER, 16), readable(DATA, 32), writable(STATUS, 1)));
        header(T_DISCARD, 0);
        assertEquals(IOERR, submit(readable(HEADER, 16), readable(DATA, 10), writable(STATUS, 1)), "partial range");
        assertArrayEquals(original, fileBytes());
    }

    @Test
    void discardWithoutTheNegotiatedFeatureIsUnsupported() throws IOException {
        block.activate(VirtioFeature.VERSION_1);
        header(T_DISCARD, 0);
        discardRange(DATA, 0, 1, 0);
        assertEquals(UNSUPP, submit(readable(HEADER, 16), readable(DATA, 16), writable(STATUS, 1)));
        assertArrayEquals(original, fileBytes());
    }

    @Test
    void requestProcessingAllocatesNothing() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        header(T_IN, 4);
        memory.write(DATA2 + 16, memory.read(HEADER, 16));
        // one read and one write chain, made available again and again
        driver.writeDescriptor(0, HEADER, 16, VirtqueueDriver.F_NEXT, 1);
        driver.writeDescriptor(1, DATA, 4096, VirtqueueDriver.F_NEXT | VirtqueueDriver.F_WRITE, 2);
        driver.writeDescriptor(2, STATUS, 1, VirtqueueDriver.F_WRITE, 0);
        driver.writeDescriptor(3, DATA2 + 16, 16, VirtqueueDriver.F_NEXT, 4);
        driver.writeDescriptor(4, DATA, 4096, VirtqueueDriver.F_NEXT, 5);
        driver.writeDescriptor(5, STATUS + 1, 1, VirtqueueDriver.F_WRITE, 0);
        memory.writeInt(DATA2 + 16, T_OUT);
        for (int round = 0; round < 2; round++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            assertTrue(before > 0, "allocation accounting is supported");
            for (int i = 0; i < 5000; i++) {
                driver.makeAvailable(i % 2 == 0 ? 0 : 3);
                block.processQueue(0, driver.queue());
                driver.queue().needsInterrupt();
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertEquals(OK, memory.readByte(STATUS));
            assertEquals(OK, memory.readByte(STATUS + 1));
            // round 0 warms up (class loading, JIT); round 1 must not allocate per request
            if (round == 1) assertTrue(allocated < 5000, "allocated " + allocated + " bytes for 5000 requests");
        }
    }

    @Test
    void imageSizeMustBeWholeSectors() throws IOException {
        Path odd = dir.resolve("odd.img");
        Files.write(odd, new byte[1000]);
        assertThrows(IOException.class, () -> VirtioBlock.open(odd, false, "x"));
        assertThrows(IllegalArgumentException.class, () -> VirtioBlock.open(image, false, "an id longer than twenty"));
    }

    @Test
    void countsRequestsBytesAndFailures() {
        header(T_IN, 0);
        submit(readable(HEADER, 16), writable(DATA, 1024), writable(STATUS, 1));
        header(T_OUT, 4);
        submit(readable(HEADER, 16), readable(DATA, 512), writable(STATUS, 1));
        header(T_FLUSH, 0);
        submit(readable(HEADER, 16), writable(STATUS, 1));
        header(T_IN, SECTORS); // past the end
        assertEquals(IOERR, submit(readable(HEADER, 16), writable(DATA, 512), writable(STATUS, 1)));
        header(99, 0);
        assertEquals(UNSUPP, submit(readable(HEADER, 16), writable(STATUS, 1)));
        assertEquals("virtio-blk", block.name());
        assertEquals(java.util.Map.of("read_requests", 2L, "write_requests", 1L, "flush_requests", 1L,
                "read_bytes", 1024L, "written_bytes", 512L, "failed_requests", 2L), block.counters());
    }
}
