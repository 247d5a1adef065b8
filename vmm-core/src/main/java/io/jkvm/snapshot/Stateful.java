package io.jkvm.snapshot;

/**
 * Something whose state goes into a snapshot: a device model, a virtqueue, a vCPU. {@link #saveState} writes
 * the fields a restored copy needs, {@link #restoreState} reads them back in the same order into an object
 * built from the same configuration. Restore must check every value it reads that could make the object
 * misbehave (an index beyond a queue, an address outside guest RAM) and throw
 * {@link SnapshotFormatException} rather than take it: a state file is host input, and may be hostile.
 */
public interface Stateful {
    void saveState(StateWriter out);

    void restoreState(StateReader in);
}
