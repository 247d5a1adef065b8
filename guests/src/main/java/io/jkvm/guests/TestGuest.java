package io.jkvm.guests;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A self-checking test guest from the classpath: {@code io/jkvm/guests/NAME.bin} (a flat binary to copy to
 * {@link GuestSpec#loadAddress()}) and {@code io/jkvm/guests/NAME.expect}. {@code io/jkvm/guests/guests.list}
 * names them all, one per line.
 */
public record TestGuest(GuestSpec spec, byte[] image) {
    private static final String DIR = "/io/jkvm/guests/";

    public String name() {
        return spec.name();
    }

    /** The flat binary (a copy). */
    @Override
    public byte[] image() {
        return image.clone();
    }

    /** Every guest in guests.list, in its order. */
    public static List<TestGuest> all() {
        return names().stream().map(TestGuest::load).toList();
    }

    /** The names in guests.list. */
    public static List<String> names() {
        try (BufferedReader r = reader("guests.list")) {
            return r.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static TestGuest load(String name) {
        GuestSpec spec;
        try (BufferedReader r = reader(name + ".expect")) {
            spec = GuestSpec.parse(name, r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (InputStream in = resource(name + ".bin")) {
            return new TestGuest(spec, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static BufferedReader reader(String file) {
        return new BufferedReader(new InputStreamReader(resource(file), StandardCharsets.UTF_8));
    }

    private static InputStream resource(String file) {
        InputStream in = TestGuest.class.getResourceAsStream(DIR + file);
        if (in == null) throw new IllegalArgumentException("no test guest resource " + DIR + file);
        return in;
    }
}
