package io.jkvm.devices.virtio.rng;

import static io.jkvm.devices.virtio.VirtqueueDriver.Buffer.writable;
import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.devices.SavedState;
import io.jkvm.devices.virtio.InterruptRecorder;
import io.jkvm.devices.virtio.MmioTransport;
import io.jkvm.devices.virtio.VirtioFeature;
import io.jkvm.devices.virtio.VirtioMmioDriver;
import io.jkvm.devices.virtio.VirtqueueDriver;
import io.jkvm.memory.GuestMemory;
import org.junit.jupiter.api.Test;

class VirtioRngStateTest {
    @Test
    void restoredEntropyDeviceFillsTheNextBuffer() throws Exception {
        try (GuestMemory memory = GuestMemory.allocate(1 << 20)) {
            VirtqueueDriver queue = VirtqueueDriver.atDefaultLayout(memory, 16);
            InterruptRecorder irq = new InterruptRecorder();
            byte[] state;
            try (MmioTransport transport = new MmioTransport(new VirtioRng(), memory, irq)) {
                transport.start();
                VirtioMmioDriver driver = new VirtioMmioDriver(transport);
                driver.negotiate(VirtioFeature.VERSION_1);
                driver.setUpQueue(0, queue);
                driver.driverOk();
                queue.addChain(writable(0x10000, 32));
                transport.notifyEventFd(0).signal();
                assertTrue(irq.awaitEdge());
                transport.pause();
                state = SavedState.save(transport);
            }
            InterruptRecorder again = new InterruptRecorder();
            try (MmioTransport restored = SavedState.restore(state, new MmioTransport(new VirtioRng(), memory, again))) {
                restored.start();
                queue.addChain(writable(0x20000, 64));
                restored.notifyEventFd(0).signal();
                assertTrue(again.awaitEdge() && again.awaitEdge(), "the pending interrupt again, then the new buffer's");
                assertEquals(2, queue.usedIdx());
                assertEquals(64, queue.usedLength(1));
            }
            SavedState.assertCorruptionRefused(state, () -> new MmioTransport(new VirtioRng(), memory, new InterruptRecorder()));
        }
    }
}
