package io.jkvm.devices.virtio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jkvm.bus.InterruptLine;
import io.jkvm.devices.virtio.block.VirtioBlock;
import io.jkvm.memory.GuestMemory;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the virtio-mmio transport with virtio-blk behind it, as a hostile guest drives them: the input picks
 * register accesses (any offset, size and value), bytes anywhere in a 64 KiB guest RAM (rings, descriptor
 * table, request headers, data), and when the queue is serviced, which happens synchronously on this thread
 * ({@link MmioTransport#serviceQueue}), so every input replays exactly. Invariants, checked after every step:
 * <ul>
 * <li>nothing escapes the transport, and the block device itself never throws (the transport would
 *     contain it as DEVICE_NEEDS_RESET, which hides the bug);</li>
 * <li>one service call completes at most the queue's size of chains (bounded work per wake-up); the
 *     harness's own timeout catches a call that never ends;</li>
 * <li>the device writes guest RAM only inside the used ring and inside device-writable buffers named by
 *     descriptors (direct or in an indirect table), computed without address wrap-around: a status byte
 *     anywhere else fails;</li>
 * <li>a read-only image is byte-identical after every step;</li>
 * <li>after a reset (Status = 0), Status, QueueReady and InterruptStatus read 0 (virtio 1.2 §2.4).</li>
 * </ul>
 * In a normal build this runs the committed inputs under
 * {@code src/test/resources/io/jkvm/devices/virtio/VirtioBlockMmioFuzzTestInputs/}; {@code scripts/fuzz.sh}
 * fuzzes it for a time budget.
 */
class VirtioBlockMmioFuzzTest {
    static final long RAM = 0x10000;
    static final long DESC = 0x0000, AVAIL = 0x1000, USED = 0x2000, DATA = 0x3000;
    static final int SECTORS = 16;
    /** Every register of §4.2.2, a few config offsets, and some nonsense. */
    static final int[] OFFSETS = {0x000, 0x004, 0x008, 0x00c, 0x010, 0x014, 0x020, 0x024, 0x030, 0x034, 0x038, 0x044,
            0x050, 0x060, 0x064, 0x070, 0x080, 0x084, 0x090, 0x094, 0x0a0, 0x0a4, 0x0b0, 0x0b4, 0x0b8, 0x0bc, 0x0fc,
            0x100, 0x108, 0x10c, 0x114, 0x124, 0x13c, 0x140, 0xffc, 0x071, 0x003};
    static final int[] SIZES = {4, 4, 4, 1, 2, 8};
    static final long[] ADDRESSES = {DATA, DATA + 0x200, DATA + 0x1000, 0x8000, RAM - 1, RAM - 0x200, RAM, DESC, AVAIL,
            USED, 0xffff_ffff_ffff_f000L, 0xffff_ffff_ffff_ffffL, 0x1_0000_0000L, -RAM};
    static final int[] LENGTHS = {1, 16, 512, 513, 1024, 0x1001, 0, 0x1000, -1};
    static final int[] REQUEST_TYPES = {0, 1, 4, 8, 11, 13, 2, 0xff};

    private static final Logger QUIET = Logger.getLogger("io.jkvm");
    private static Path dir;
    private static Path image;
    private static byte[] original;
    private static GuestMemory memory;
    /** Whether the image may differ from {@link #original} (a writable run wrote it). */
    private static boolean imageDirty = true;

    @BeforeAll
    static void setUp() throws IOException {
        QUIET.setLevel(Level.OFF); // guest-error warnings, once per device, i.e. per input: noise here
        dir = Files.createTempDirectory("jkvm-fuzz-blk");
        image = dir.resolve("disk.img");
        original = new byte[SECTORS * VirtioBlock.SECTOR_SIZE];
        for (int i = 0; i < original.length; i++) original[i] = (byte) (i * 31 + i / 512);
        memory = GuestMemory.allocate(RAM);
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (memory != null) memory.close();
        if (image != null) Files.deleteIfExists(image);
        if (dir != null) Files.deleteIfExists(dir);
        QUIET.setLevel(null);
    }

    @FuzzTest(maxDuration = "10m")
    void mmioBlock(FuzzedDataProvider in) throws IOException {
        new Run(in).run();
    }

    /** A device that reports, rather than hides, an exception of the block device. */
    private static final class Watched implements VirtioDevice {
        final VirtioBlock block;
        RuntimeException thrown;

        Watched(VirtioBlock block) {
            this.block = block;
        }

        @Override public int deviceId() { return block.deviceId(); }
        @Override public long features() { return block.features(); }
        @Override public int queueCount() { return block.queueCount(); }
        @Override public int maxQueueSize() { return block.maxQueueSize(); }
        @Override public long readConfig(int offset, int size) { return block.readConfig(offset, size); }
        @Override public void writeConfig(int offset, int size, long value) { block.writeConfig(offset, size, value); }
        @Override public void activate(long negotiated) { block.activate(negotiated); }
        @Override public void reset() { block.reset(); }
        @Override public void close() { block.close(); }
        @Override public void saveState(StateWriter out) { block.saveState(out); }
        @Override public void restoreState(StateReader in) { block.restoreState(in); }

        @Override
        public void processQueue(int index, Virtqueue queue) {
            try {
                block.processQueue(index, queue);
            } catch (RuntimeException e) {
                if (thrown == null) thrown = e;
                throw e;
            }
        }
    }

    private static final class Run {
        final FuzzedDataProvider in;
        final boolean readOnly;
        final Watched device;
        final MmioTransport transport;
        final VirtioMmioDriver driver;

        Run(FuzzedDataProvider in) throws IOException {
            this.in = in;
            memory.fill(0, RAM, (byte) 0);
            readOnly = in.consumeBoolean();
            if (imageDirty) Files.write(image, original);
            imageDirty = !readOnly;
            device = new Watched(VirtioBlock.open(image, readOnly, "fuzz"));
            InterruptLine line = level -> { };
            transport = new MmioTransport(device, memory, line);
            driver = new VirtioMmioDriver(transport);
        }

        void run() throws IOException {
            try {
                if (!in.consumeBoolean()) initialise();
                for (int step = 0; step < 64 && in.remainingBytes() > 0; step++) step();
                service();
            } finally {
                transport.close();
            }
        }

        /** A driver's set-up (§3.1.1) with input-chosen features and queue size, so most inputs start ready. */
        void initialise() {
            long features = device.features() & (in.consumeLong() | VirtioFeature.VERSION_1);
            driver.negotiate(features);
            int size = 1 << in.consumeInt(0, 4);
            driver.write(VirtioMmioDriver.QUEUE_SEL, 0);
            driver.write(VirtioMmioDriver.QUEUE_NUM, size);
            driver.write(VirtioMmioDriver.QUEUE_DESC_LOW, DESC);
            driver.write(VirtioMmioDriver.QUEUE_DRIVER_LOW, AVAIL);
            driver.write(VirtioMmioDriver.QUEUE_DEVICE_LOW, USED);
            driver.write(VirtioMmioDriver.QUEUE_READY, 1);
            driver.driverOk();
        }

        void step() throws IOException {
            switch (in.consumeInt(0, 9)) {
                case 0 -> transport.write(pickOffset(), in.pickValue(SIZES), in.consumeLong());
                case 1 -> {
                    long offset = pickOffset();
                    int size = in.pickValue(SIZES);
                    long value = transport.read(offset, size);
                    if (size < 8) assertEquals(0, value >>> (8 * size), "read of " + size + " bytes at " + offset);
                }
                case 2 -> { // raw bytes anywhere in RAM
                    long at = in.consumeLong(0, RAM - 1);
                    byte[] bytes = in.consumeBytes((int) Math.min(64, RAM - at));
                    memory.write(at, bytes);
                }
                case 3 -> { // one descriptor of the table (or of an indirect table in the data area)
                    long table = in.consumeBoolean() ? DESC : DATA + 0x2000;
                    long d = table + 16L * in.consumeInt(0, 15);
                    memory.writeLong(d, in.consumeBoolean() ? in.pickValue(ADDRESSES) + in.consumeInt(0, 0x3ff) : in.consumeLong());
                    memory.writeInt(d + 8, in.consumeBoolean() ? in.pickValue(LENGTHS) : in.consumeInt());
                    memory.writeShort(d + 12, (short) in.consumeInt(0, 7));
                    memory.writeShort(d + 14, (short) in.consumeInt(0, 17));
                }
                case 4 -> { // make a head available
                    int idx = memory.readShort(AVAIL + 2) & 0xffff;
                    memory.writeShort(AVAIL + 4 + 2L * (idx & ringMask()), (short) in.consumeInt(0, 17));
                    memory.writeShort(AVAIL + 2, (short) (idx + in.consumeInt(1, 2)));
                }
                case 5 -> { // a block request header
                    long at = DATA + 16L * in.consumeInt(0, 255);
                    memory.writeInt(at, in.pickValue(REQUEST_TYPES));
                    memory.writeInt(at + 4, 0);
                    memory.writeLong(at + 8, in.consumeBoolean() ? in.consumeLong(0, SECTORS + 1) : in.consumeLong());
                }
                case 6 -> service();
                case 7 -> {
                    driver.write(VirtioMmioDriver.STATUS, 0);
                    assertEquals(0, driver.read(VirtioMmioDriver.STATUS), "Status after reset");
                    assertEquals(0, driver.read(VirtioMmioDriver.INTERRUPT_STATUS), "InterruptStatus after reset");
                    driver.write(VirtioMmioDriver.QUEUE_SEL, 0);
                    assertEquals(0, driver.read(VirtioMmioDriver.QUEUE_READY), "QueueReady after reset");
                    if (in.consumeBoolean()) initialise();
                }
                case 8 -> driver.write(VirtioMmioDriver.INTERRUPT_ACK, driver.read(VirtioMmioDriver.INTERRUPT_STATUS));
                default -> request();
            }
        }

        /**
         * A well-formed request, as Linux's driver builds it, made available: header, data buffers, status
         * byte, direct or through an indirect table. Few input bytes reach real reads, writes, flushes,
         * discards; the other steps then corrupt what this laid out.
         */
        void request() {
            int type = in.pickValue(REQUEST_TYPES);
            long sector = in.consumeLong(0, SECTORS);
            int dataLength = in.pickValue(new int[] {0, 16, 512, 1024, 20});
            boolean indirect = in.consumeBoolean();
            int head = in.consumeInt(0, 15) & ringMask();
            long header = DATA + 0x100L * in.consumeInt(0, 15);
            long data = DATA + 0x3000 + 0x400L * in.consumeInt(0, 15);
            long status = DATA + 0x1000 + in.consumeInt(0, 0xff);
            memory.writeInt(header, type);
            memory.writeInt(header + 4, 0);
            memory.writeLong(header + 8, sector);
            if (type == 11 || type == 13) { // one discard / write-zeroes range as the data
                memory.writeLong(data, sector);
                memory.writeInt(data + 8, in.consumeInt(0, 4));
                memory.writeInt(data + 12, in.consumeInt(0, 1));
            }
            boolean deviceWrites = type == 0 || type == 8;
            long statusLength = 1;
            if (in.consumeBoolean()) { // a hostile status buffer: outside RAM, at the top of the address space
                status = in.pickValue(ADDRESSES) + in.consumeInt(0, 0x3ff);
                statusLength = in.pickValue(LENGTHS) & 0xffff_ffffL;
            }
            long[][] buffers = dataLength == 0
                    ? new long[][] {{header, 16, 0}, {status, statusLength, 2}}
                    : new long[][] {{header, 16, 0}, {data, dataLength, deviceWrites ? 2 : 0}, {status, statusLength, 2}};
            long table = indirect ? DATA + 0x2000 : DESC;
            int first = indirect ? 0 : head;
            for (int i = 0; i < buffers.length; i++) {
                long d = table + 16L * ((first + i) % 16);
                boolean last = i == buffers.length - 1;
                memory.writeLong(d, buffers[i][0]);
                memory.writeInt(d + 8, (int) buffers[i][1]);
                memory.writeShort(d + 12, (short) (buffers[i][2] | (last ? 0 : 1)));
                memory.writeShort(d + 14, (short) ((first + i + 1) % 16));
            }
            if (indirect) {
                long d = DESC + 16L * head;
                memory.writeLong(d, table);
                memory.writeInt(d + 8, 16 * buffers.length);
                memory.writeShort(d + 12, (short) 0b100);
                memory.writeShort(d + 14, (short) 0);
            }
            int idx = memory.readShort(AVAIL + 2) & 0xffff;
            memory.writeShort(AVAIL + 4 + 2L * (idx & ringMask()), (short) head);
            memory.writeShort(AVAIL + 2, (short) (idx + 1));
        }

        /** Index mask of the avail ring at {@link #AVAIL}, for the queue size the device has (at most 16 here). */
        int ringMask() {
            int size = transport.queue(0).size();
            return Math.min(16, Math.max(1, Integer.highestOneBit(Math.max(1, size)))) - 1;
        }

        long pickOffset() {
            return in.consumeBoolean() ? in.pickValue(OFFSETS) : in.consumeLong(0, MmioTransport.WINDOW_SIZE - 1);
        }

        /** QueueNotify, then the queue's service on this thread, with the memory-write invariant around it. */
        void service() throws IOException {
            transport.write(VirtioMmioDriver.QUEUE_NOTIFY, 4, 0);
            Virtqueue q = transport.queue(0);
            byte[] before = memory.read(0, (int) RAM);
            boolean ready = q.ready();
            int size = q.size();
            long used = q.usedRing();
            int usedIdx = q.usedIndex(); // the device's own count: the guest may overwrite the ring's copy

            transport.serviceQueue(0);

            if (device.thrown != null) throw new AssertionError("virtio-blk threw on guest input", device.thrown);
            byte[] after = memory.read(0, (int) RAM);
            if (!ready) {
                assertArrayEquals(before, after, "a queue that is not ready wrote guest RAM");
            } else {
                int done = (q.usedIndex() - usedIdx) & 0xffff;
                assertTrue(done <= size, done + " chains completed in one service of a queue of " + size);
                checkWrites(before, after, size, q.descriptorTable(), used);
            }
            checkImage();
        }

        /** Every changed byte lies in the used ring or in a device-writable buffer of some descriptor. */
        void checkWrites(byte[] before, byte[] after, int size, long table, long used) {
            List<long[]> allowed = new ArrayList<>();
            allowed.add(new long[] {used, used + 6 + 8L * size});
            for (byte[] ram : List.of(before, after)) writableRanges(ram, table, size, true, allowed);
            for (int i = 0; i < RAM; i++) {
                int skip = Arrays.mismatch(before, i, (int) RAM, after, i, (int) RAM);
                if (skip < 0) return;
                i += skip;
                boolean ok = false;
                for (long[] r : allowed) ok |= i >= r[0] && i < r[1];
                if (!ok) fail(String.format("device wrote guest RAM at %#x, outside the used ring and every "
                        + "device-writable buffer", i));
            }
        }

        static void writableRanges(byte[] ram, long table, int entries, boolean followIndirect, List<long[]> out) {
            for (int i = 0; i < entries; i++) {
                long d = table + 16L * i;
                if (d < 0 || d + 16 > ram.length) return;
                long address = le(ram, d, 8), length = le(ram, d + 8, 4);
                int flags = (int) le(ram, d + 12, 2);
                if ((flags & 0b100) != 0 && followIndirect) {
                    writableRanges(ram, address, (int) Math.min(length / 16, 4096), false, out);
                } else if ((flags & 0b010) != 0 && length > 0) {
                    long end = address + length; // [address, end) without wrap-around, as unsigned numbers
                    if (Long.compareUnsigned(end, address) > 0) out.add(new long[] {address, end});
                }
            }
        }

        static long le(byte[] b, long at, int n) {
            long v = 0;
            for (int i = 0; i < n; i++) v |= (b[(int) at + i] & 0xffL) << (8 * i);
            return v;
        }

        void checkImage() {
            if (!readOnly) return;
            try {
                if (!Arrays.equals(original, Files.readAllBytes(image))) fail("a read-only image changed");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
