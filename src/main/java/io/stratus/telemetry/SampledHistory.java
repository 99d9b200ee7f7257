package io.stratus.telemetry;

import java.util.List;
import java.util.Map;

/**
 * History for a chart: every point of the window, or, when a stream has more than twice the requested number
 * of buckets, the smallest and largest point of each bucket ({@code downsampled}, buckets {@code bucketMillis}
 * wide). {@code totals} counts the points each stream has in the window before any reduction.
 */
public record SampledHistory(List<StoredPoint> points, boolean downsampled, long bucketMillis, Map<String, Long> totals) {
}
