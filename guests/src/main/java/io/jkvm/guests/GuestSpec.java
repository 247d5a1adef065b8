package io.jkvm.guests;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;

/**
 * A test guest's declaration, parsed from its {@code NAME.expect} file (java.util.Properties syntax; the
 * keys are described in guests/README.md). Unknown keys, missing keys and malformed numbers are errors,
 * so a typo cannot silently turn a check off.
 *
 * @param name        the guest's name (its file names without extension)
 * @param mode        the processor mode at the first instruction
 * @param loadAddress guest-physical address of the flat binary's first byte
 * @param entry       guest-physical address of the first instruction
 * @param memorySize  RAM size at guest-physical 0
 * @param testDevice  guest-physical base of the runner's test register device, if the guest uses it
 * @param ending      how the guest ends and what is checked then
 */
public record GuestSpec(String name, CpuMode mode, long loadAddress, long entry, long memorySize,
                        OptionalLong testDevice, Ending ending) {

    private static final String REG_PREFIX = "reg.";
    private static final String MEM_PREFIX = "mem";

    public static GuestSpec parse(String name, Reader in) {
        Properties p = new Properties();
        try {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(name + ".expect: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ".expect: " + e.getMessage(), e);
        }
        try {
            return parse(name, p);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ".expect: " + e.getMessage(), e);
        }
    }

    private static GuestSpec parse(String name, Properties p) {
        Set<String> used = new HashSet<>();
        CpuMode mode = CpuMode.ofKey(required(p, "mode", used));
        long load = number(required(p, "load", used));
        long entry = number(required(p, "entry", used));
        long memory = number(required(p, "memory", used));
        String device = optional(p, "test-device", used);
        OptionalLong testDevice = device == null ? OptionalLong.empty() : OptionalLong.of(number(device));
        String end = required(p, "end", used);
        Ending ending = switch (end) {
            case "hlt" -> halt(p, used);
            case "loop" -> loop(p, used);
            default -> throw new IllegalArgumentException("end must be hlt or loop, not '" + end + "'");
        };
        for (String key : p.stringPropertyNames()) {
            if (!used.contains(key)) throw new IllegalArgumentException("unknown key '" + key + "'");
        }
        return new GuestSpec(name, mode, load, entry, memory, testDevice, ending);
    }

    private static Ending.Halt halt(Properties p, Set<String> used) {
        String serial = optional(p, "serial", used);
        Map<Register, Long> registers = new EnumMap<>(Register.class);
        List<MemoryCheck> memory = new ArrayList<>();
        for (String key : p.stringPropertyNames()) {
            if (used.contains(key)) continue;
            if (key.startsWith(REG_PREFIX)) {
                registers.put(Register.ofKey(key.substring(REG_PREFIX.length())), number(p.getProperty(key)));
                used.add(key);
            } else if (key.startsWith(MEM_PREFIX)) {
                memory.add(memoryCheck(key, p.getProperty(key)));
                used.add(key);
            }
        }
        memory.sort((a, b) -> Long.compareUnsigned(a.address(), b.address()));
        return new Ending.Halt(serial == null ? "" : serial, registers, memory);
    }

    /** {@code memBITS.ADDRESS=VALUE}, e.g. {@code mem16.0x3000=0xbeef}. */
    private static MemoryCheck memoryCheck(String key, String value) {
        int dot = key.indexOf('.');
        if (dot < 0) throw new IllegalArgumentException("memory key must be memBITS.ADDRESS: '" + key + "'");
        int bits;
        try {
            bits = Integer.parseInt(key.substring(MEM_PREFIX.length(), dot));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("memory key must be memBITS.ADDRESS: '" + key + "'");
        }
        if (bits % 8 != 0) throw new IllegalArgumentException("memory width must be whole bytes: '" + key + "'");
        return new MemoryCheck(number(key.substring(dot + 1)), bits / 8, number(value));
    }

    private static Ending.Loop loop(Properties p, Set<String> used) {
        String exit = required(p, "loop.exit", used);
        Ending.ExitKind kind = switch (exit) {
            case "pio" -> Ending.ExitKind.PIO;
            case "mmio" -> Ending.ExitKind.MMIO;
            default -> throw new IllegalArgumentException("loop.exit must be pio or mmio, not '" + exit + "'");
        };
        long size = number(required(p, "loop.size", used));
        if (size != 1 && size != 2 && size != 4 && size != 8)
            throw new IllegalArgumentException("loop.size must be 1, 2, 4 or 8: " + size);
        return new Ending.Loop(kind, number(required(p, "loop.address", used)), (int) size,
                number(required(p, "loop.value", used)));
    }

    private static String required(Properties p, String key, Set<String> used) {
        String v = optional(p, key, used);
        if (v == null) throw new IllegalArgumentException("missing key '" + key + "'");
        return v;
    }

    private static String optional(Properties p, String key, Set<String> used) {
        used.add(key);
        return p.getProperty(key);
    }

    /** A 64-bit unsigned number, {@code 0x} hexadecimal or decimal. */
    static long number(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT).replace("_", "");
        try {
            return s.startsWith("0x") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseUnsignedLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number: '" + text + "'");
        }
    }
}
