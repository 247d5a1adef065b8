package io.jkvm.benchmarks;

import io.jkvm.kvm.Kvm;
import io.jkvm.kvm.KvmUnavailableException;
import java.util.Arrays;
import java.util.Set;

/**
 * The benchmarks jar's entry point: checks that /dev/kvm can be used, saying why in one line if not,
 * then hands the arguments to JMH's own main. Listing and help ({@code -l}, {@code -lp}, {@code -h})
 * work without KVM.
 */
public final class Main {
    private static final Set<String> NO_RUN_OPTIONS = Set.of("-l", "-lp", "-h");

    private Main() {}

    public static void main(String[] args) throws Exception {
        if (Arrays.stream(args).noneMatch(NO_RUN_OPTIONS::contains)) requireKvm();
        org.openjdk.jmh.Main.main(args);
    }

    private static void requireKvm() {
        try (Kvm kvm = Kvm.open()) {
            // opened and closed again: KVM is usable
        } catch (KvmUnavailableException e) {
            System.err.println("jkvm benchmarks: " + e.getMessage());
            System.exit(1);
        }
    }
}
