package io.jkvm.boot;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** jkvm's version, as Maven built it (GET /, GET /version, {@code jkvm --version}, the snapshot state file). */
public final class Version {
    private static final String VERSION = load();

    private Version() {}

    public static String jkvm() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            Properties p = new Properties();
            if (in != null) p.load(in);
            return p.getProperty("version", "(development build)");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
