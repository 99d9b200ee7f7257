package io.stratus.telemetry;

import java.util.List;

/** One page of history; {@code next} is present only when more points remain. */
public record HistoryPage(List<StoredPoint> points, Cursor next) {
}
