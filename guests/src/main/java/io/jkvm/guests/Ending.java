package io.jkvm.guests;

import java.util.List;
import java.util.Map;

/** How a test guest ends, and what the runner checks when it does. */
public sealed interface Ending {

    /**
     * The guest halts ({@code hlt}, KVM_EXIT_HLT without an in-kernel irqchip). By then it has written
     * exactly {@code serial} to the serial port, and the registers and memory hold the given values.
     */
    record Halt(String serial, Map<Register, Long> registers, List<MemoryCheck> memory) implements Ending {
        public Halt {
            registers = Map.copyOf(registers);
            memory = List.copyOf(memory);
        }
    }

    /**
     * The guest never ends: it repeats one write exit forever (the benchmark guests). Every exit is a
     * {@code size}-byte write of {@code value} to {@code address} on the {@code exit} bus.
     */
    record Loop(ExitKind exit, long address, int size, long value) implements Ending {}

    /** The bus a looping guest's exits go to. */
    enum ExitKind {
        /** KVM_EXIT_IO, direction out. */
        PIO,
        /** KVM_EXIT_MMIO, is_write. */
        MMIO
    }
}
