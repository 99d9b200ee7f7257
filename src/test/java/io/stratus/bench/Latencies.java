package io.stratus.bench;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/** Latency samples of one measurement, kept exactly (up to a cap) and sorted for percentiles. */
final class Latencies {
    /** Percentiles in microseconds; {@code count} samples. */
    record Summary(long count, double p50, double p99, double p999, double max) {
        static final Summary EMPTY = new Summary(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    private final long[] nanos;
    private final AtomicInteger next = new AtomicInteger();

    Latencies(int capacity) {
        this.nanos = new long[capacity];
    }

    /** Thread-safe; samples past the capacity are dropped. */
    void record(long latencyNanos) {
        int i = next.getAndIncrement();
        if (i < nanos.length) {
            nanos[i] = latencyNanos;
        }
    }

    void reset() {
        next.set(0);
    }

    Summary summary() {
        int n = Math.min(next.get(), nanos.length);
        if (n == 0) {
            return Summary.EMPTY;
        }
        long[] sorted = Arrays.copyOf(nanos, n);
        Arrays.sort(sorted);
        return new Summary(n, micros(sorted, 0.50), micros(sorted, 0.99), micros(sorted, 0.999), sorted[n - 1] / 1000.0);
    }

    private static double micros(long[] sorted, double p) {
        int rank = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(rank, sorted.length - 1))] / 1000.0;
    }
}
