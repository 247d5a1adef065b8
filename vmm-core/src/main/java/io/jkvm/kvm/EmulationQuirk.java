package io.jkvm.kvm;

/**
 * What to do with a KVM emulation failure (KVM_EXIT_INTERNAL_ERROR, suberror KVM_INTERNAL_ERROR_EMULATION)
 * on PVM, whose in-kernel emulator runs guest CPL0 code but lacks two instructions Linux uses
 * (shared/platform.md): {@code int3} (it cannot deliver INT n in long mode) and {@code fwait}.
 */
enum EmulationQuirk {
    /** int3 (0xCC): RIP past it, then inject #BP (vector 3, no error code) as the CPU would. */
    INJECT_BREAKPOINT,
    /** fwait (0x9B): with no x87 exception pending it does nothing; RIP past it. */
    SKIP_FWAIT,
    /** Any other instruction: the VMM cannot help; stop. */
    UNHANDLED;

    /** Intel SDM Vol. 2: INT3 = CC, FWAIT/WAIT = 9B (each one byte, no prefixes). */
    private static final int INT3 = 0xCC, FWAIT = 0x9B;
    /** #BP, the breakpoint exception (Intel SDM Vol. 3 §6.15). */
    static final int BREAKPOINT_VECTOR = 3;

    /** The action for the failed instruction, given how many bytes KVM fetched and the first one. */
    static EmulationQuirk forInstruction(int insnSize, int firstByte) {
        if (insnSize < 1) return UNHANDLED;
        return switch (firstByte) {
            case INT3 -> INJECT_BREAKPOINT;
            case FWAIT -> SKIP_FWAIT;
            default -> UNHANDLED;
        };
    }
}
