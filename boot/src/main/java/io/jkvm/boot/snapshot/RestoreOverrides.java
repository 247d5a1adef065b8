package io.jkvm.boot.snapshot;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a restore may change of the saved machine: the host ends of its channels, which belong to the host
 * and not to the guest (Firecracker's snapshot load takes {@code network_overrides} the same way). The guest
 * sees no difference: the device, its MAC and its CID stay.
 *
 * @param taps      a new TAP for a network interface, by the interface's label ({@code id=}, else its TAP)
 * @param vsockUds  a new Unix socket for the vsock device's host side
 */
public record RestoreOverrides(Map<String, String> taps, Optional<Path> vsockUds) {
    public static final RestoreOverrides NONE = new RestoreOverrides(Map.of(), Optional.empty());

    public RestoreOverrides {
        taps = Map.copyOf(taps);
        Objects.requireNonNull(vsockUds, "vsockUds");
    }
}
