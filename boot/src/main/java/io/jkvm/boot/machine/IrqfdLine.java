package io.jkvm.boot.machine;

import io.jkvm.bus.InterruptLine;
import io.jkvm.io.EventFd;

/**
 * An edge interrupt delivered by a KVM irqfd: one eventfd write injects it into the in-kernel IOAPIC
 * without an ioctl (api.rst 4.75 KVM_IRQFD). Virtio-mmio devices use it; their DSDT entries say "edge".
 */
final class IrqfdLine implements InterruptLine {
    private final EventFd eventFd;

    IrqfdLine(EventFd eventFd) {
        this.eventFd = eventFd;
    }

    @Override
    public void set(boolean asserted) {
        if (asserted) eventFd.signal();
    }

    @Override
    public void trigger() {
        eventFd.signal();
    }
}
