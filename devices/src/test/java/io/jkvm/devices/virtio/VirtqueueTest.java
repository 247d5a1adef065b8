package io.jkvm.devices.virtio;

import static io.jkvm.devices.virtio.VirtqueueDriver.F_INDIRECT;
import static io.jkvm.devices.virtio.VirtqueueDriver.F_NEXT;
import static io.jkvm.devices.virtio.VirtqueueDriver.F_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.devices.virtio.VirtqueueDriver.Buffer;
import io.jkvm.memory.GuestMemory;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class VirtqueueTest {
    private static final long RAM = 1 << 20;
    private static final long ALL_RING_FEATURES = VirtioFeature.RING_INDIRECT_DESC | VirtioFeature.RING_EVENT_IDX;
    private static final int SIZE = 16;
    private static final long DATA = 0x10000;
    private static final long INDIRECT_TABLE = 0x20000;

    private final GuestMemory memory = GuestMemory.allocate(RAM);

    @AfterEach
    void close() {
        memory.close();
    }

    @Test
    void directChainKeepsBuffersInOrderAndCompletionPublishesUsedElement() {
        VirtqueueDriver d = VirtqueueDriver.withQueue(memory, SIZE, ALL_RING_FEATURES);
        int head = d.addChain(Buffer.readable(DATA, 16), Buffer.readable(DATA + 0x100, 512),
                Buffer.writable(DATA + 0x400, 1));
        DescriptorChain c = d.queue().next();
        assertNotNull(c);
        assertEquals(head, c.head());
        assertEquals(3, c.count());
        assertEquals(2, c.readableCount());
        assertEquals(DATA + 0x100, c.address(1));
        assertEquals(512, c.length(1));
        assertTrue(c.writable(2));
        assertEquals(528, c.readableBytes());
        assertEquals(1, c.writableBytes());
        assertEquals(DATA + 0x400, c.lastWritableByte());

        d.queue().complete(1);
        assertEquals(1, d.usedIdx());
        assertEquals(head, d.usedId(0));
        assertEquals(1, d.usedLength(0));
        assertNull(d.queue().next());
    }

    @Test
    void indirectChainIsFollowed() {
        VirtqueueDriver d = VirtqueueDriver.withQueue(memory, SIZE, ALL_RING_FEATURES);
        int head = d.addIndirectChain(INDIRECT_TABLE, Buffer.readable(DATA, 16), Buffer.writable(DATA + 0x200, 4096),
                Buffer.writable(DATA + 0x2000, 1));
        DescriptorChain c = d.queue().next();
        assertNotNull(c);
        assertEquals(head, c.head());
        assertEquals(3, c.count());
        assertEquals(4097, c.writableBytes());
        assertEquals(DATA + 0x2000, c.lastWritableByte());
    }

    @Test
    void chainBytesCopyAcrossBufferBoundaries() {
        VirtqueueDriver d = VirtqueueDriver.withQueue(memory, SIZE, 0);
        memory.write(DATA, new byte[] {1, 2, 3});
        memory.write(DATA + 0x100, new byte[] {4, 5, 6});
        d.addChain(Buffer.readable(DATA, 3), Buffer.readable(DATA + 0x100, 3), Buffer.writable(DATA + 0x200, 2),
                Buffer.writable(DATA + 0x300, 2));
        DescriptorChain c = d.queue().next();
        byte[] got = new byte[4];
        assertTrue(c.readReadable(memory, 1, got, 4));
        assertEquals("[2, 3, 4, 5]", java.util.Arrays.toString(got));
        assertFalse(c.readReadable(memory, 3, got, 4), "past the readable part");
        assertTrue(c.writeWritable(memory, 1, new byte[] {9, 8}, 2));
        assertEquals(9, memory.readByte(DATA + 0x201));
        assertEquals(8, memory.readByte(DATA + 0x300));
    }

    @Test
    void buffersOutsideRamOrOverflowingAreReturnedUnused() {
        VirtqueueDriver d = VirtqueueDriver.withQueue(memory, SIZE, 0);
        d.addChain(Buffer.readable(RAM - 8, 16), Buffer.writable(DATA, 1));
        d.addChain(Buffer.readable(0xffff_ffff_ffff_fff0L, 0x20), Buffer.writable(DATA, 1));
        d.addChain(Buffer.readable(DATA, 0xffff_ffffL), Buffer.writable(DATA, 1));
        d.addChain(Buffer.readable(DATA, 16), Buffer.writable(0xffff_ffff_ffff_f000L, 0x1001));
        assertNull(d.queue().next());
        assertEquals(4, d.usedIdx());
        for (int i = 0; i < 4; i++) assertEquals(0, d.usedLength(i));
    }

    /** A hostile chain layout, written into the queue by a test case. */
    private interface Hostile extends Consumer<VirtqueueDriver> {}

    static Stream<Arguments> malformedChains() {
        return Stream.of(
                Arguments.of("loop", (Hostile) d -> {
                    d.writeDescriptor(0, DATA, 16, F_NEXT, 1);
                    d.writeDescriptor(1, DATA, 16, F_NEXT, 0);
                }),
                Arguments.of("next index beyond the table", (Hostile) d -> d.writeDescriptor(0, DATA, 16, F_NEXT, SIZE)),
                Arguments.of("nested indirect", (Hostile) d -> {
                    d.writeDescriptor(0, INDIRECT_TABLE, 32, F_INDIRECT, 0);
                    d.writeDescriptor(INDIRECT_TABLE, 0, DATA, 16, F_NEXT, 1);
                    d.writeDescriptor(INDIRECT_TABLE, 1, INDIRECT_TABLE + 0x100, 16, F_INDIRECT, 0);
                }),
                Arguments.of("indirect length not a multiple of 16",
                        (Hostile) d -> d.writeDescriptor(0, INDIRECT_TABLE, 24, F_INDIRECT, 0)),
                Arguments.of("indirect length zero", (Hostile) d -> d.writeDescriptor(0, INDIRECT_TABLE, 0, F_INDIRECT, 0)),
                Arguments.of("indirect table outside RAM",
                        (Hostile) d -> d.writeDescriptor(0, RAM - 16, 32, F_INDIRECT, 0)),
                Arguments.of("indirect with next", (Hostile) d -> {
                    d.writeDescriptor(0, INDIRECT_TABLE, 16, F_INDIRECT | F_NEXT, 1);
                    d.writeDescriptor(INDIRECT_TABLE, 0, DATA, 16, 0, 0);
                }),
                Arguments.of("loop inside an indirect table", (Hostile) d -> {
                    d.writeDescriptor(0, INDIRECT_TABLE, 32, F_INDIRECT, 0);
                    d.writeDescriptor(INDIRECT_TABLE, 0, DATA, 16, F_NEXT, 1);
                    d.writeDescriptor(INDIRECT_TABLE, 1, DATA, 16, F_NEXT, 0);
                }),
                Arguments.of("indirect chain longer than the queue", (Hostile) d -> {
                    int entries = SIZE + 1;
                    d.writeDescriptor(0, INDIRECT_TABLE, 16L * entries, F_INDIRECT, 0);
                    for (int i = 0; i < entries; i++)
                        d.writeDescriptor(INDIRECT_TABLE, i, DATA, 16, i + 1 < entries ? F_NEXT : 0, i + 1);
                }),
                Arguments.of("readable after writable", (Hostile) d -> {
                    d.writeDescriptor(0, DATA, 16, F_WRITE | F_NEXT, 1);
                    d.writeDescriptor(1, DATA, 16, 0, 0);
                }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedChains")
    void malformedChainIsReturnedWithZeroLengthAndTheQueueGoesOn(String name, Hostile layout) {
        VirtqueueDriver d = VirtqueueDriver.withQueue(memory, SIZE, ALL_RING_FEATURES);
        layout.accept(d);
        d.makeAvailable(0);
        // a good chain after the bad one, from descriptors the bad one does not use
        d.writeDescriptor(8, DATA, 16, F_NEXT, 9);
        d.writeDescriptor(9, DATA + 0x100, 1, F_WRITE, 0);
        d.makeAvailable(8);

        DescriptorChain c = d.queue().next();
        assertNotNull(c, name);
        assertEquals(8, c.head());
        assertEquals(1, d.usedIdx(), "the malformed chain was used");
        assertEquals(0, d.usedId(0));
        assertEquals(0, d.usedLength(0));
        assertFalse(d.queue().broken());
    }

    @Test
    void indirectWithoutTheFeatureIsMalformed() {
        VirtqueueDriver d = VirtqueueDriver.withQueue(memory, SIZE, 0);
        d.addIndirectChain(INDIRECT_TABLE, Buffer.writable(DATA, 1));
        assertNull(d.queue().next());
        assertEquals(1, d.usedIdx());
        assertEquals(0, d.usedLength(0));
    }

    @Test
    void availIdxMoreThanQueueSizeAheadBreaksTheQueue() {
        VirtqueueDriver d = VirtqueueDriver.withQueue(memory, SIZE, 0);
        d.setAvailIdx(SIZE + 1);
        assertNull(d.queue().next());
        assertTrue(d.queue().broken());
        assertEquals(0, d.usedIdx());
    }

    @Test
    void headIndexBeyondTheTableBreaksTheQueue() {
        VirtqueueDriver d = VirtqueueDriver.withQueue(memory, SIZE, 0);
        d.makeAvailable(SIZE);
        assertNull(d.queue().next());
        assertTrue(d.queue().broken());
    }

    /** A batch (the chains next() hands out until it returns null) holds a queue's worth at most. */
    @Test
    void aBatchEndsAfterAQueuesWorth() {
        VirtqueueDriver d = VirtqueueDriver.withQueue(memory, SIZE, 0);
        d.writeDescriptor(3, DATA, 1, F_WRITE, 0);
        int served = 0;
        for (int i = 0; i < 3 * SIZE; i++) {
            d.makeAvailable(3);
            DescriptorChain c = d.queue().next();
            if (c == null) break;
            d.queue().complete(1);
            served++;
        }
        assertEquals(SIZE, served);
        assertTrue(d.queue().endBatch(), "cut short");
        assertNotNull(d.queue().next(), "the next batch goes on");
        assertFalse(d.queue().endBatch());
    }

    @Test
    void indicesWrapAt16Bits() {
        VirtqueueDriver d = VirtqueueDriver.withQueue(memory, SIZE, 0);
        int requests = 0x10000 + 5;
        d.writeDescriptor(3, DATA, 1, F_WRITE, 0);
        for (int i = 0; i < requests; i++) {
            d.makeAvailable(3);
            DescriptorChain c = d.queue().next();
            assertNotNull(c, "request " + i);
            d.queue().complete(1);
            assertNull(d.queue().next(), "one request per batch");
        }
        assertEquals(requests & 0xffff, d.usedIdx());
        assertEquals(3, d.usedId(requests - 1));
        assertFalse(d.queue().broken());
    }

    @Test
    void withoutEventIdxNoInterruptFlagSuppresses() {
        VirtqueueDriver d = VirtqueueDriver.withQueue(memory, SIZE, 0);
        assertFalse(d.queue().needsInterrupt(), "nothing used yet");
        d.addChain(Buffer.writable(DATA, 1));
        d.queue().next();
        d.queue().complete(1);
        assertTrue(d.queue().needsInterrupt());
        assertFalse(d.queue().needsInterrupt(), "nothing new since");

        d.setAvailFlags(1); // VIRTQ_AVAIL_F_NO_INTERRUPT
        d.addChain(Buffer.writable(DATA, 1));
        d.queue().next();
        d.queue().complete(1);
        assertFalse(d.queue().needsInterrupt());
    }

    @Test
    void eventIdxInterruptsOnlyWhenUsedIdxPassesUsedEvent() {
        VirtqueueDriver d = VirtqueueDriver.withQueue(memory, SIZE, VirtioFeature.RING_EVENT_IDX);
        d.setUsedEvent(2); // interrupt when used idx moves past 2, i.e. on the third buffer
        for (int i = 0; i < 2; i++) {
            d.addChain(Buffer.writable(DATA, 1));
            d.queue().next();
            d.queue().complete(1);
            assertFalse(d.queue().needsInterrupt(), "buffer " + i);
        }
        d.addChain(Buffer.writable(DATA, 1));
        d.queue().next();
        d.queue().complete(1);
        assertTrue(d.queue().needsInterrupt());

        // a batch of two that crosses used_event gets one interrupt
        d.setUsedEvent(3);
        d.addChain(Buffer.writable(DATA, 1));
        d.addChain(Buffer.writable(DATA, 1));
        d.queue().next();
        d.queue().complete(1);
        d.queue().next();
        d.queue().complete(1);
        assertTrue(d.queue().needsInterrupt());
    }

    @Test
    void eventIdxPublishesAvailEventWhenTheRingIsDrained() {
        VirtqueueDriver d = VirtqueueDriver.withQueue(memory, SIZE, VirtioFeature.RING_EVENT_IDX);
        for (int i = 0; i < 3; i++) d.addChain(Buffer.writable(DATA, 1));
        for (int i = 0; i < 3; i++) {
            d.queue().next();
            d.queue().complete(1);
        }
        assertNull(d.queue().next());
        assertEquals(3, d.availEvent());
    }

    @Test
    void badLayoutsAreRefused() {
        GuestErrorLog log = new GuestErrorLog(VirtqueueTest.class, "test");
        assertFalse(layout(log, 12, 0x0, 0x8000, 0x9000), "size not a power of two");
        assertFalse(layout(log, 32, 0x0, 0x8000, 0x9000), "size beyond the maximum");
        assertFalse(layout(log, 16, 0x8, 0x8000, 0x9000), "descriptor table not 16-aligned");
        assertFalse(layout(log, 16, 0x0, 0x8001, 0x9000), "avail not 2-aligned");
        assertFalse(layout(log, 16, 0x0, 0x8000, 0x9002), "used not 4-aligned");
        assertFalse(layout(log, 16, RAM - 0x80, 0x8000, 0x9000), "descriptor table past RAM");
        assertFalse(layout(log, 16, 0x0, 0x8000, RAM - 0x10), "used ring past RAM");
        assertTrue(layout(log, 16, 0x0, 0x8000, 0x9000));
    }

    private boolean layout(GuestErrorLog log, int size, long table, long avail, long used) {
        Virtqueue q = new Virtqueue(memory, 16, log);
        q.setSize(size);
        q.setDescriptorTable(table);
        q.setAvailRing(avail);
        q.setUsedRing(used);
        return q.enable() && q.ready();
    }
}
