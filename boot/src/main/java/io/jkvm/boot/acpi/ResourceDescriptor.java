package io.jkvm.boot.acpi;

import java.util.List;

/**
 * Resource data descriptors for _CRS buffers (ACPI 6.4 §6.4). Small descriptors start with one byte
 * {@code 0 | type(4) | length(3)}; large ones with {@code 1 | type(7)} and a 16-bit length of the rest.
 */
public sealed interface ResourceDescriptor {
    void encode(ByteWriter out);

    /**
     * I/O Port Descriptor (§6.4.2.5), small type 0x08 length 7, first byte 0x47: information (bit 0: 16-bit
     * decode), minimum and maximum base (16-bit), base alignment and range length (8-bit).
     */
    record IoPort(int minimum, int maximum, int alignment, int length) implements ResourceDescriptor {
        public IoPort {
            check(minimum, 0xFFFF, "minimum");
            check(maximum, 0xFFFF, "maximum");
            check(alignment, 0xFF, "alignment");
            check(length, 0xFF, "length");
        }

        /** A fixed range: {@code IO(Decode16, base, base, 1, length)}. */
        public static IoPort fixed(int base, int length) {
            return new IoPort(base, base, 1, length);
        }

        @Override
        public void encode(ByteWriter out) {
            out.u8(0x47).u8(0b1).u16(minimum).u16(maximum).u8(alignment).u8(length);
        }
    }

    /**
     * 32-bit Fixed Memory Range Descriptor (§6.4.3.4), large type 0x06 (0x86), length 9: information (bit 0:
     * read/write), base and length (32-bit).
     */
    record Memory32Fixed(boolean writable, long base, long length) implements ResourceDescriptor {
        public Memory32Fixed {
            check(base, 0xFFFF_FFFFL, "base");
            check(length, 0xFFFF_FFFFL, "length");
        }

        @Override
        public void encode(ByteWriter out) {
            out.u8(0x86).u16(9).u8(writable ? 1 : 0).u32(base).u32(length);
        }
    }

    /**
     * Extended Interrupt Descriptor (§6.4.3.6), large type 0x09 (0x89), length 2 + 4n: flags (bit 0 consumer,
     * bit 1 edge, bit 2 active-low, bit 3 shared), interrupt table length n, then n 32-bit interrupt numbers
     * (GSIs). No resource source.
     */
    record ExtendedInterrupt(InterruptTrigger trigger, InterruptPolarity polarity, boolean shared, List<Integer> interrupts)
            implements ResourceDescriptor {
        public ExtendedInterrupt {
            interrupts = List.copyOf(interrupts);
            if (interrupts.isEmpty() || interrupts.size() > 255)
                throw new IllegalArgumentException("1-255 interrupts, not " + interrupts.size());
        }

        /** A consumer of one exclusive interrupt. */
        public static ExtendedInterrupt of(int gsi, InterruptTrigger trigger, InterruptPolarity polarity) {
            return new ExtendedInterrupt(trigger, polarity, false, List.of(gsi));
        }

        @Override
        public void encode(ByteWriter out) {
            int flags = 0b1 // ResourceConsumer: jkvm's devices only consume interrupts
                    | (trigger == InterruptTrigger.EDGE ? 0b10 : 0)
                    | (polarity == InterruptPolarity.ACTIVE_LOW ? 0b100 : 0)
                    | (shared ? 0b1000 : 0);
            out.u8(0x89).u16(2 + 4 * interrupts.size()).u8(flags).u8(interrupts.size());
            for (int i : interrupts) out.u32(i & 0xFFFF_FFFFL);
        }
    }

    private static void check(long value, long max, String what) {
        if (value < 0 || value > max) throw new IllegalArgumentException(String.format("%s %#x out of range [0, %#x]", what, value, max));
    }
}
