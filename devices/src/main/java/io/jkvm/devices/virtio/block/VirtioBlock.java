package io.jkvm.devices.virtio.block;

import io.jkvm.devices.CounterSet;
import io.jkvm.devices.virtio.ConfigSpace;
import io.jkvm.devices.virtio.DescriptorChain;
import io.jkvm.devices.virtio.GuestErrorLog;
import io.jkvm.devices.virtio.VirtioDevice;
import io.jkvm.devices.virtio.VirtioFeature;
import io.jkvm.devices.virtio.Virtqueue;
import io.jkvm.io.IoVector;
import io.jkvm.io.RawFile;
import io.jkvm.memory.GuestMemory;
import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * A virtio block device (virtio 1.2 §5.2) over a raw disk image, one request queue. Data moves with
 * one preadv/pwritev per request straight between the file and the request's guest buffers.
 *
 * <p>A request is {@code le32 type, le32 reserved, le64 sector} in device-readable buffers, then the data,
 * then a status byte: the last device-writable byte of the chain. Nothing else is assumed about framing
 * (§2.7.4): the header and data may be split over descriptors in any way. A chain with a buffer outside
 * guest RAM never gets here ({@link Virtqueue} returns it with used length 0, no status written). A request
 * whose sectors pass the capacity, whose data sits in buffers of the wrong direction
 * (device-readable data in a read, device-writable data in a write) or whose length is not a multiple of
 * 512 fails with IOERR before any I/O; the image is untouched. A read-only disk offers VIRTIO_BLK_F_RO and
 * fails writes with IOERR (§5.2.6.2).
 *
 * <p>The image size must be a multiple of 512 bytes: {@link #open} rejects other sizes rather than hide a
 * partial last sector from the guest.
 *
 * <p>Snapshots: a paused transport has no request in flight (each is finished within the service that took
 * it), and the negotiated features come back through {@link #activate}, so the saved state is only the
 * capacity, for a restore to refuse a disk of another size. The image's contents are the host's to keep.
 */
public final class VirtioBlock implements VirtioDevice {
    /** §5: device ID of a block device. */
    public static final int DEVICE_ID = 2;
    public static final int SECTOR_SIZE = 512;
    /** VIRTIO_BLK_ID_BYTES: length of the GET_ID string. */
    public static final int ID_BYTES = 20;
    public static final int QUEUE_SIZE = 256;

    // §5.2.3 feature bits
    static final long VIRTIO_BLK_F_SEG_MAX = 1L << 2;
    static final long VIRTIO_BLK_F_RO = 1L << 5;
    static final long VIRTIO_BLK_F_BLK_SIZE = 1L << 6;
    static final long VIRTIO_BLK_F_FLUSH = 1L << 9;
    static final long VIRTIO_BLK_F_DISCARD = 1L << 13;
    static final long VIRTIO_BLK_F_WRITE_ZEROES = 1L << 14;

    // §5.2.4 struct virtio_blk_config offsets
    private static final int CONFIG_CAPACITY = 0;
    private static final int CONFIG_SEG_MAX = 12;
    private static final int CONFIG_BLK_SIZE = 20;
    private static final int CONFIG_MAX_DISCARD_SECTORS = 36;
    private static final int CONFIG_MAX_DISCARD_SEG = 40;
    private static final int CONFIG_DISCARD_SECTOR_ALIGNMENT = 44;
    private static final int CONFIG_MAX_WRITE_ZEROES_SECTORS = 48;
    private static final int CONFIG_MAX_WRITE_ZEROES_SEG = 52;
    private static final int CONFIG_WRITE_ZEROES_MAY_UNMAP = 56;
    private static final int CONFIG_SIZE = 60;

    // §5.2.6 request types and status values
    static final int VIRTIO_BLK_T_IN = 0;
    static final int VIRTIO_BLK_T_OUT = 1;
    static final int VIRTIO_BLK_T_FLUSH = 4;
    static final int VIRTIO_BLK_T_GET_ID = 8;
    static final int VIRTIO_BLK_T_DISCARD = 11;
    static final int VIRTIO_BLK_T_WRITE_ZEROES = 13;
    static final byte VIRTIO_BLK_S_OK = 0;
    static final byte VIRTIO_BLK_S_IOERR = 1;
    static final byte VIRTIO_BLK_S_UNSUPP = 2;

    private static final int HEADER_SIZE = 16;
    /** §5.2.6: struct virtio_blk_discard_write_zeroes {le64 sector; le32 num_sectors; le32 flags}. */
    private static final int RANGE_SIZE = 16;
    private static final int RANGE_FLAG_UNMAP = 0b1;
    /** Ranges per discard / write-zeroes request (max_discard_seg, max_write_zeroes_seg). */
    static final int MAX_RANGES = 32;
    /** Sectors per discard / write-zeroes range: 1 GiB. */
    static final long MAX_RANGE_SECTORS = 1L << 21;
    /** Header and status take two descriptors of a chain at most Queue Size long. */
    static final int SEG_MAX = QUEUE_SIZE - 2;

    private final RawFile file;
    private final long capacity;
    private final long features;
    private final byte[] id = new byte[ID_BYTES];
    private final ConfigSpace config = new ConfigSpace(CONFIG_SIZE);
    private final GuestErrorLog log;

    // Per-request scratch, reused (one queue, one I/O thread).
    private final byte[] header = new byte[HEADER_SIZE];
    private final byte[] range = new byte[RANGE_SIZE];
    private final long[] rangeSector = new long[MAX_RANGES];
    private final long[] rangeCount = new long[MAX_RANGES];
    private final boolean[] rangeUnmap = new boolean[MAX_RANGES];
    /** The data buffers of a read or write: no more than the descriptors of a chain. */
    private final IoVector data = new IoVector(QUEUE_SIZE);
    private long negotiated;
    private int transferred;

    // Counted on the queue's I/O thread, read by the metrics.
    private final CounterSet counted = new CounterSet();
    private final LongAdder readRequests = counted.add("read_requests");
    private final LongAdder writeRequests = counted.add("write_requests");
    private final LongAdder flushRequests = counted.add("flush_requests");
    private final LongAdder readBytes = counted.add("read_bytes");
    private final LongAdder writtenBytes = counted.add("written_bytes");
    private final LongAdder failedRequests = counted.add("failed_requests");

    private VirtioBlock(RawFile file, long capacity, String id) {
        this.file = file;
        this.capacity = capacity;
        this.log = new GuestErrorLog(VirtioBlock.class, "virtio-blk " + file.path());
        byte[] ascii = id.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(ascii, 0, this.id, 0, ascii.length);
        long f = VirtioFeature.TRANSPORT_FEATURES | VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH;
        f |= file.readOnly() ? VIRTIO_BLK_F_RO : VIRTIO_BLK_F_DISCARD | VIRTIO_BLK_F_WRITE_ZEROES;
        this.features = f;
        config.put64(CONFIG_CAPACITY, capacity);
        config.put32(CONFIG_SEG_MAX, SEG_MAX);
        config.put32(CONFIG_BLK_SIZE, SECTOR_SIZE);
        if (!file.readOnly()) {
            config.put32(CONFIG_MAX_DISCARD_SECTORS, MAX_RANGE_SECTORS);
            config.put32(CONFIG_MAX_DISCARD_SEG, MAX_RANGES);
            config.put32(CONFIG_DISCARD_SECTOR_ALIGNMENT, 4096 / SECTOR_SIZE); // a hint to the driver
            config.put32(CONFIG_MAX_WRITE_ZEROES_SECTORS, MAX_RANGE_SECTORS);
            config.put32(CONFIG_MAX_WRITE_ZEROES_SEG, MAX_RANGES);
            config.put8(CONFIG_WRITE_ZEROES_MAY_UNMAP, 1);
        }
    }

    /**
     * Opens (and flocks) the image at {@code path}. {@code id} is the GET_ID string: ASCII, at most 20 bytes.
     * Throws IOException if the image cannot be opened or its size is not a multiple of 512.
     */
    public static VirtioBlock open(Path path, boolean readOnly, String id) throws IOException {
        checkId(id); // before the image is opened (and locked)
        return open(RawFile.open(path, readOnly), id);
    }

    /** A device over the opened {@code file}, which it owns from now on (closed on failure too). */
    public static VirtioBlock open(RawFile file, String id) throws IOException {
        try {
            checkId(id);
            long size = file.size();
            if (size % SECTOR_SIZE != 0)
                throw new IOException(file.path() + ": size " + size + " is not a multiple of " + SECTOR_SIZE + " bytes");
            return new VirtioBlock(file, size / SECTOR_SIZE, id);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static void checkId(String id) {
        if (id.length() > ID_BYTES || !StandardCharsets.US_ASCII.newEncoder().canEncode(id))
            throw new IllegalArgumentException("disk id must be ASCII, at most 20 characters: " + id);
    }

    /** Capacity in 512-byte sectors. */
    public long capacity() {
        return capacity;
    }

    @Override
    public int deviceId() {
        return DEVICE_ID;
    }

    @Override
    public String name() {
        return "virtio-blk";
    }

    /** Requests by type, the data bytes they moved, and the requests that did not end with status OK. */
    @Override
    public Map<String, Long> counters() {
        return counted.snapshot();
    }

    @Override
    public long features() {
        return features;
    }

    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public int maxQueueSize() {
        return QUEUE_SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        return config.read(offset, size);
    }

    @Override
    public void activate(long negotiatedFeatures) {
        negotiated = negotiatedFeatures;
    }

    @Override
    public void reset() {
        negotiated = 0;
        file.clearWritebackFailure();
    }

    @Override
    public void close() {
        file.close();
    }

    @Override
    public void saveState(StateWriter out) {
        out.u64(capacity);
    }

    @Override
    public void restoreState(StateReader in) {
        long saved = in.u64();
        if (saved != capacity)
            throw new SnapshotFormatException("the snapshot's disk has " + Long.toUnsignedString(saved) + " sectors, "
                    + file.path() + " has " + capacity);
    }

    @Override
    public void processQueue(int index, Virtqueue queue) {
        GuestMemory memory = queue.memory();
        for (DescriptorChain chain = queue.next(); chain != null; chain = queue.next()) {
            queue.complete(handle(memory, chain));
        }
    }

    /** Executes one request; returns the number of bytes written into the chain (the used length). */
    private int handle(GuestMemory memory, DescriptorChain chain) {
        long statusAddress = chain.lastWritableByte();
        if (statusAddress < 0) {
            log.warnOnce("no-status", "request without a status byte dropped");
            return 0;
        }
        transferred = 0;
        byte status = chain.readReadable(memory, 0, header, HEADER_SIZE) ? execute(memory, chain) : VIRTIO_BLK_S_IOERR;
        if (status != VIRTIO_BLK_S_OK) failedRequests.increment();
        memory.writeByte(statusAddress, status);
        return transferred + 1;
    }

    private byte execute(GuestMemory memory, DescriptorChain chain) {
        int type = (int) littleEndian(header, 0, 4);
        long sector = littleEndian(header, 8, 8);
        try {
            return switch (type) {
                case VIRTIO_BLK_T_IN -> read(memory, chain, sector);
                case VIRTIO_BLK_T_OUT -> write(memory, chain, sector);
                case VIRTIO_BLK_T_FLUSH -> flush();
                case VIRTIO_BLK_T_GET_ID -> getId(memory, chain);
                case VIRTIO_BLK_T_DISCARD -> (negotiated & VIRTIO_BLK_F_DISCARD) != 0
                        ? discardOrWriteZeroes(memory, chain, false) : VIRTIO_BLK_S_UNSUPP;
                case VIRTIO_BLK_T_WRITE_ZEROES -> (negotiated & VIRTIO_BLK_F_WRITE_ZEROES) != 0
                        ? discardOrWriteZeroes(memory, chain, true) : VIRTIO_BLK_S_UNSUPP;
                default -> VIRTIO_BLK_S_UNSUPP;
            };
        } catch (IOException e) {
            log.errorOnce("io-error", "I/O error on request type " + type, e);
            return VIRTIO_BLK_S_IOERR;
        }
    }

    private byte read(GuestMemory memory, DescriptorChain chain, long sector) throws IOException {
        readRequests.increment();
        long length = chain.writableBytes() - 1;
        if (chain.readableBytes() != HEADER_SIZE || !inCapacity(sector, length)) return VIRTIO_BLK_S_IOERR;
        transfer(memory, chain, true, length, sector * SECTOR_SIZE);
        transferred = (int) length;
        readBytes.add(length);
        return VIRTIO_BLK_S_OK;
    }

    private byte write(GuestMemory memory, DescriptorChain chain, long sector) throws IOException {
        writeRequests.increment();
        long length = chain.readableBytes() - HEADER_SIZE;
        if (file.readOnly() || chain.writableBytes() != 1 || !inCapacity(sector, length)) return VIRTIO_BLK_S_IOERR;
        transfer(memory, chain, false, length, sector * SECTOR_SIZE);
        writtenBytes.add(length);
        return VIRTIO_BLK_S_OK;
    }

    private byte flush() throws IOException {
        flushRequests.increment();
        file.flush();
        return VIRTIO_BLK_S_OK;
    }

    /** §5.2.6: the ID string, NUL-padded to 20 bytes, into the data buffer (up to its length). */
    private byte getId(GuestMemory memory, DescriptorChain chain) {
        int length = (int) Math.min(ID_BYTES, chain.writableBytes() - 1);
        chain.writeWritable(memory, 0, id, length);
        transferred = length;
        return VIRTIO_BLK_S_OK;
    }

    /**
     * §5.2.6.2: every range is copied out of guest RAM once, then checked (flags, size, capacity), and only
     * then executed, so a bad range anywhere leaves the image untouched and a racing guest changes nothing.
     */
    private byte discardOrWriteZeroes(GuestMemory memory, DescriptorChain chain, boolean writeZeroes) throws IOException {
        long payload = chain.readableBytes() - HEADER_SIZE;
        if (payload == 0 || payload % RANGE_SIZE != 0 || payload / RANGE_SIZE > MAX_RANGES) return VIRTIO_BLK_S_IOERR;
        int ranges = (int) (payload / RANGE_SIZE);
        for (int i = 0; i < ranges; i++) {
            chain.readReadable(memory, HEADER_SIZE + (long) i * RANGE_SIZE, range, RANGE_SIZE);
            long sector = littleEndian(range, 0, 8);
            long sectors = littleEndian(range, 8, 4);
            int flags = (int) littleEndian(range, 12, 4);
            int allowedFlags = writeZeroes ? RANGE_FLAG_UNMAP : 0; // unmap on discard: UNSUPP
            if ((flags & ~allowedFlags) != 0) return VIRTIO_BLK_S_UNSUPP;
            if (sectors > MAX_RANGE_SECTORS || !inCapacity(sector, sectors * SECTOR_SIZE)) return VIRTIO_BLK_S_IOERR;
            rangeSector[i] = sector;
            rangeCount[i] = sectors;
            rangeUnmap[i] = (flags & RANGE_FLAG_UNMAP) != 0;
        }
        for (int i = 0; i < ranges; i++) {
            long offset = rangeSector[i] * SECTOR_SIZE;
            long length = rangeCount[i] * SECTOR_SIZE;
            if (length == 0) continue;
            if (writeZeroes) {
                // a punched hole reads back as zeros; where none can be punched, zeros are written
                if (!rangeUnmap[i] || !file.punchHole(offset, length)) file.zeroRange(offset, length);
            } else if (!file.punchHole(offset, length)) {
                // §5.2.6.2: discard is a hint; the data may stay
                log.warnOnce("discard-unsupported", "the host file system cannot punch holes; discards leave the data");
            }
        }
        return VIRTIO_BLK_S_OK;
    }

    /** Whether {@code length} bytes from {@code sector} are whole sectors inside the disk (unsigned, overflow-safe). */
    private boolean inCapacity(long sector, long length) {
        if (length < 0 || length % SECTOR_SIZE != 0) return false;
        return Long.compareUnsigned(sector, capacity) <= 0 && length / SECTOR_SIZE <= capacity - sector;
    }

    /**
     * Moves {@code length} data bytes between the image at {@code fileOffset} and the chain's data buffers:
     * the device-writable part (a read) or the device-readable part after the header (a write).
     */
    private void transfer(GuestMemory memory, DescriptorChain chain, boolean toGuest, long length, long fileOffset)
            throws IOException {
        int first = toGuest ? chain.readableCount() : 0;
        int end = toGuest ? chain.count() : chain.readableCount();
        long skip = toGuest ? 0 : HEADER_SIZE;
        long remaining = length;
        data.clear();
        for (int i = first; i < end && remaining > 0; i++) {
            long bufferLength = chain.length(i);
            if (skip >= bufferLength) {
                skip -= bufferLength;
                continue;
            }
            long n = Math.min(bufferLength - skip, remaining);
            data.add(memory, chain.address(i) + skip, n);
            skip = 0;
            remaining -= n;
        }
        if (toGuest) file.readInto(data, fileOffset);
        else file.writeFrom(data, fileOffset);
    }

    private static long littleEndian(byte[] bytes, int offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) value |= (bytes[offset + i] & 0xffL) << (8 * i);
        return value;
    }
}
