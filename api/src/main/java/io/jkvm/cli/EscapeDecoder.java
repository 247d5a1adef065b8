package io.jkvm.cli;

/**
 * The console's escape sequence, as in QEMU's -serial mon:stdio: Ctrl-A then x quits, Ctrl-A Ctrl-A
 * sends one Ctrl-A to the guest, Ctrl-A then anything else sends both bytes. Everything else passes
 * through. One instance per console; not thread-safe (one input thread feeds it).
 */
final class EscapeDecoder {
    static final int CTRL_A = 0x01;

    /** What the console should do with the byte just fed. */
    enum Action { FORWARD, FORWARD_ESCAPE_AND_BYTE, SWALLOW, QUIT }

    private boolean escaped;

    Action feed(int b) {
        if (escaped) {
            escaped = false;
            if (b == 'x' || b == 'X') return Action.QUIT;
            if (b == CTRL_A) return Action.FORWARD;
            return Action.FORWARD_ESCAPE_AND_BYTE;
        }
        if (b == CTRL_A) {
            escaped = true;
            return Action.SWALLOW;
        }
        return Action.FORWARD;
    }
}
