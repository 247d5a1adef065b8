package io.jkvm.boot.loader;

/** Test access to package-private sizes for {@code io.jkvm.boot.LayoutTest}. */
public final class PvhStartInfoAccess {
    private PvhStartInfoAccess() {}

    public static int size() {
        return PvhStartInfo.SIZE;
    }
}
