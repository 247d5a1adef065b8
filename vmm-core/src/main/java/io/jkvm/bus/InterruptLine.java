package io.jkvm.bus;

/**
 * An interrupt request line as a device drives it. Level-triggered devices (the 16550's INTR pin)
 * call {@link #set}; edge-style devices (virtio through irqfd) call {@link #trigger}. Machine assembly
 * decides what is behind it: KVM_IRQ_LINE on the in-kernel irqchip, an irqfd, or a test recorder.
 */
public interface InterruptLine {
    void set(boolean asserted);

    /** One interrupt edge: assert, then de-assert. */
    default void trigger() {
        set(true);
        set(false);
    }
}
