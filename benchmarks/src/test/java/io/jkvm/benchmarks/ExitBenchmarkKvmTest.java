package io.jkvm.benchmarks;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.jkvm.kvm.RunOutcome;
import io.jkvm.testing.KvmTests;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The benchmark's own set-up and one operation under real KVM, outside JMH: a batch ends only after
 * {@link ExitBenchmark#BATCH} exits that each wrote the guest's expected value (ExitCounter throws on
 * anything else), so a benchmark that silently measures nothing cannot pass.
 */
class ExitBenchmarkKvmTest {

    @ParameterizedTest
    @ValueSource(strings = {"bench-pio", "bench-mmio"})
    @Timeout(120)
    void oneBatchOfExitsRunsToItsEnd(String guest) {
        KvmTests.assumeKvm();
        ExitBenchmark benchmark = new ExitBenchmark();
        benchmark.guest = guest;
        benchmark.setUp();
        try {
            assertInstanceOf(RunOutcome.Stopped.class, benchmark.exitRoundTrip());
            assertInstanceOf(RunOutcome.Stopped.class, benchmark.exitRoundTrip(), "a second batch on the same vCPU");
        } finally {
            benchmark.tearDown();
        }
    }
}
