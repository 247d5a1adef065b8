package io.jkvm.devices.legacy;

import io.jkvm.bus.InterruptLine;
import java.util.Objects;

/**
 * A device's interrupt output pin: remembers its level and tells the {@link InterruptLine} only about
 * changes, so recomputing the level after every register access costs no KVM_IRQ_LINE call. Not
 * thread-safe on its own; the owning device calls it under its lock.
 */
final class LevelPin {
    private final InterruptLine line;
    private boolean asserted;

    LevelPin(InterruptLine line) {
        this.line = Objects.requireNonNull(line);
    }

    void drive(boolean level) {
        if (level != asserted) {
            asserted = level;
            line.set(level);
        }
    }
}
