package io.jkvm.boot.machine;

import io.jkvm.devices.virtio.net.MacAddress;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One {@code --net tap=NAME[,mac=02:..][,mtu=N][,id=ID]} argument: a virtio-net device over the TAP
 * {@code NAME} (created if absent, which needs CAP_NET_ADMIN). {@code mac} and {@code mtu} are offered to
 * the guest (VIRTIO_NET_F_MAC, VIRTIO_NET_F_MTU); {@code id} names the device in jkvm's messages.
 */
public record NetSpec(String tap, Optional<MacAddress> mac, OptionalInt mtu, Optional<String> id) {
    /** IFNAMSIZ (linux/if.h) is 16 with the terminating NUL. */
    public static final int MAX_TAP_NAME = 15;
    /** virtio 1.2 §5.1.4.1: the device MUST NOT set mtu outside 68-65535. */
    public static final int MIN_MTU = 68, MAX_MTU = 65535;

    public NetSpec {
        if (tap.isEmpty() || tap.length() > MAX_TAP_NAME || tap.equals(".") || tap.equals("..")
                || !tap.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '/' && c != ':'))
            throw new IllegalArgumentException("--net tap name must be 1-15 printable characters without '/' or ':': '" + tap + "'");
        if (mtu.isPresent() && (mtu.getAsInt() < MIN_MTU || mtu.getAsInt() > MAX_MTU))
            throw new IllegalArgumentException("--net mtu must be " + MIN_MTU + "-" + MAX_MTU + ", not " + mtu.getAsInt());
    }

    public static NetSpec parse(String text) {
        String tap = null;
        Optional<MacAddress> mac = Optional.empty();
        OptionalInt mtu = OptionalInt.empty();
        Optional<String> id = Optional.empty();
        for (String p : text.split(",", -1)) {
            int eq = p.indexOf('=');
            String key = eq < 0 ? p : p.substring(0, eq);
            String value = eq < 0 ? "" : p.substring(eq + 1);
            switch (key) {
                case "tap" -> tap = value;
                case "mac" -> mac = Optional.of(MacAddress.parse(value));
                case "mtu" -> mtu = OptionalInt.of(parseMtu(value));
                case "id" -> {
                    if (value.isEmpty()) throw new IllegalArgumentException("--net id must not be empty");
                    id = Optional.of(value);
                }
                default -> throw new IllegalArgumentException("--net: unknown option '" + p
                        + "' (expected tap=NAME, mac=02:..., mtu=N, id=NAME)");
            }
        }
        if (tap == null) throw new IllegalArgumentException("--net needs tap=NAME: '" + text + "'");
        return new NetSpec(tap, mac, mtu, id);
    }

    private static int parseMtu(String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--net mtu must be a number, not '" + value + "'");
        }
    }

    /** How jkvm names the device in messages: its id, else the TAP's name. */
    public String label() {
        return id.orElse(tap);
    }
}
