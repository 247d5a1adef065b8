package io.jkvm.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * The gate every KVM test passes first. Where /dev/kvm can be opened the test runs. Where it cannot,
 * the test is skipped with one clear line, unless JKVM_REQUIRE_KVM=1 (set by .ci/run on machines that
 * have /dev/kvm): then a skip would hide a broken machine or a broken test, so it fails instead.
 */
public final class KvmTests {
    private static final Path DEV_KVM = Path.of("/dev/kvm");

    private KvmTests() {}

    public static boolean kvmUsable() {
        return Files.isReadable(DEV_KVM) && Files.isWritable(DEV_KVM);
    }

    public static void assumeKvm() {
        if (kvmUsable()) return;
        String why = Files.exists(DEV_KVM) ? "/dev/kvm is not readable and writable by this user"
                : "/dev/kvm does not exist on this machine";
        if ("1".equals(System.getenv("JKVM_REQUIRE_KVM"))) fail("JKVM_REQUIRE_KVM=1 but " + why);
        Assumptions.abort("KVM test skipped: " + why);
    }
}
