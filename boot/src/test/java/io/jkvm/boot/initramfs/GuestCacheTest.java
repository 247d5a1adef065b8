package io.jkvm.boot.initramfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestCacheTest {
    @Test
    void jkvmCacheVariableWinsOverHome() {
        assertEquals(Path.of("/c/guest"),
                GuestCache.fromEnvironment(Map.of("JKVM_CACHE", "/c"), Path.of("/home/u")).guestDirectory());
        assertEquals(Path.of("/home/u/.cache/jkvm/guest"),
                GuestCache.fromEnvironment(Map.of(), Path.of("/home/u")).guestDirectory());
    }

    @Test
    void onlyExistingArtifactsAreOffered(@TempDir Path tmp) throws IOException {
        GuestCache cache = new GuestCache(tmp);
        assertTrue(cache.vmlinux().isEmpty());
        Path vmlinux = Files.write(tmp.resolve("vmlinux"), new byte[] {0x7f});
        assertEquals(vmlinux, cache.vmlinux().orElseThrow());
        assertTrue(cache.bzImage().isEmpty());
    }
}
