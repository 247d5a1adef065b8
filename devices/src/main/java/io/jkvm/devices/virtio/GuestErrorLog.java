package io.jkvm.devices.virtio;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Warnings about guest misbehaviour, each kind logged once per device so that a hostile or buggy guest
 * cannot flood the host log. Only error paths call it.
 */
public final class GuestErrorLog {
    private final System.Logger logger;
    private final String device;
    private final Set<String> reported = ConcurrentHashMap.newKeySet();

    public GuestErrorLog(Class<?> owner, String device) {
        this.logger = System.getLogger(owner.getName());
        this.device = device;
    }

    public void warnOnce(String kind, String detail) {
        if (reported.add(kind)) logger.log(System.Logger.Level.WARNING, device + ": " + detail + " (further " + kind + " errors not logged)");
    }

    public void errorOnce(String kind, String detail, Throwable cause) {
        if (reported.add(kind)) logger.log(System.Logger.Level.ERROR, device + ": " + detail, cause);
    }
}
