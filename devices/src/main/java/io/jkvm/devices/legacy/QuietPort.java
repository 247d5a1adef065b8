package io.jkvm.devices.legacy;

/**
 * Ports a PC guest touches though nothing useful is behind them, claimed so the accesses are neither
 * counted nor logged as unclaimed: every byte reads a fixed value, writes vanish. On a PC, Linux
 * touches for example 0x87 (DMA page register), 0xED (the alternative I/O-delay port) and 0x61
 * (NMI status / speaker gate, when no in-kernel PIT owns it). Stateless, so thread-safe.
 */
public final class QuietPort extends ByteRegisters {
    private final int value;

    private QuietPort(int value) {
        this.value = value;
    }

    /** Reads as all-ones, like an empty ISA bus. */
    public static QuietPort readingOnes() {
        return new QuietPort(0xFF);
    }

    /** Reads as zero: a register that reports "nothing set" (e.g. no NMI source at 0x61). */
    public static QuietPort readingZeros() {
        return new QuietPort(0x00);
    }

    @Override
    int readByte(long offset) {
        return value;
    }

    @Override
    void writeByte(long offset, int value) {
        // dropped
    }
}
