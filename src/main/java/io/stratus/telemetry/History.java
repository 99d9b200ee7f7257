package io.stratus.telemetry;

import io.stratus.Config;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * History queries: latest values, pages of a window, and windows down-sampled for charts, each read in one of a bounded
 * number of query slots and within a reply budget.
 */
final class History {
    /** How long a history query waits for a slot before errno 13. */
    static final long QUERY_SLOT_WAIT_MILLIS = 5_000;

    private final Config config;
    private final DatapointStore datastreams;
    private final HistoryStore store;
    private final Semaphore querySlots;
    private final LongAdder refused = new LongAdder();

    History(Config config, DatapointStore datastreams, HistoryStore store) {
        this.config = config;
        this.datastreams = datastreams;
        this.store = store;
        this.querySlots = new Semaphore(config.historyMaxConcurrentQueries());
    }

    HistoryPage history(long deviceId, HistoryQuery q) {
        List<String> streams = q.streams().isEmpty()
                ? datastreams.streams(deviceId, List.of()).stream().map(Datastream::id).toList() : q.streams();
        if (streams.isEmpty()) {
            return new HistoryPage(List.of(), null);
        }
        if (q.newestOnly()) {
            Comparator<StoredPoint> order = Comparator.comparingLong(StoredPoint::at).thenComparing(StoredPoint::stream);
            List<StoredPoint> newest = datastreams.streams(deviceId, streams).stream()
                    .filter(d -> d.latestAt() != null)
                    .map(d -> new StoredPoint(d.id(), d.latestAt(), d.latestValueJson()))
                    .sorted(q.descending() ? order.reversed() : order)
                    .limit(q.limit()).toList();
            return new HistoryPage(newest, null);
        }
        long now = System.currentTimeMillis();
        List<StoredPoint> rows = withQuerySlot(() -> store.range(deviceId, streams, q.from(now), q.to(now), q.descending(),
                q.after(), q.limit() + 1, new ReplyBudget(config.historyMaxReplyBytes())));
        if (rows.size() <= q.limit()) {
            return new HistoryPage(rows, null);
        }
        List<StoredPoint> page = rows.subList(0, q.limit());
        StoredPoint last = page.get(page.size() - 1);
        return new HistoryPage(List.copyOf(page), new Cursor(last.at(), last.stream()));
    }

    /** See {@link Telemetry#sampled}. */
    SampledHistory sampled(long deviceId, HistoryQuery q, int buckets) {
        if (buckets < 1 || buckets > Telemetry.MAX_BUCKETS) {
            throw new IllegalArgumentException("buckets must be 1.." + Telemetry.MAX_BUCKETS);
        }
        List<String> streams = q.streams().isEmpty()
                ? datastreams.streams(deviceId, List.of()).stream().map(Datastream::id).toList() : q.streams();
        if (streams.isEmpty()) {
            return new SampledHistory(List.of(), false, 0, Map.of());
        }
        if (q.newestOnly()) {
            List<StoredPoint> newest = history(deviceId, q).points();
            Map<String, Long> totals = new LinkedHashMap<>();
            newest.forEach(p -> totals.merge(p.stream(), 1L, Long::sum));
            return new SampledHistory(newest, false, 0, totals);
        }
        long now = System.currentTimeMillis();
        long from = q.from(now);
        long to = q.to(now);
        return withQuerySlot(() -> sampled(deviceId, q, buckets, streams, from, to));
    }

    private SampledHistory sampled(long deviceId, HistoryQuery q, int buckets, List<String> streams, long from, long to) {
        Map<String, HistoryStore.Extent> extents = store.extents(deviceId, streams, from, to);
        Map<String, Long> totals = new LinkedHashMap<>();
        extents.forEach((s, e) -> totals.put(s, e.count()));
        if (extents.isEmpty()) {
            return new SampledHistory(List.of(), false, 0, totals);
        }
        long first = extents.values().stream().mapToLong(HistoryStore.Extent::first).min().orElseThrow();
        long last = extents.values().stream().mapToLong(HistoryStore.Extent::last).max().orElseThrow();
        boolean reduce = extents.values().stream().anyMatch(e -> e.count() > 2L * buckets);
        ReplyBudget budget = new ReplyBudget(config.historyMaxReplyBytes());
        List<StoredPoint> points;
        long width = 0;
        if (reduce) {
            // Buckets over the span the data covers, so that an open window ("from start on") still works.
            width = Math.max(1, Math.floorDiv(last - first, buckets) + 1);
            points = store.minMaxPerBucket(deviceId, extents.keySet(), first, last, width, budget);
        } else {
            points = store.range(deviceId, extents.keySet(), first, last, false, null, Integer.MAX_VALUE, budget);
        }
        if (q.descending()) {
            points = new ArrayList<>(points);
            Collections.reverse(points);
        }
        return new SampledHistory(List.copyOf(points), reduce, width, totals);
    }

    /**
     * Runs a history read in one of the {@code history.max-concurrent-queries} slots, waiting up to
     * {@link #QUERY_SLOT_WAIT_MILLIS} for one: with each reply bounded by {@code history.max-reply-bytes}, the heap all
     * history reads take together is bounded too, however many HTTP workers ask at once.
     */
    private <T> T withQuerySlot(Supplier<T> query) {
        boolean acquired;
        try {
            acquired = querySlots.tryAcquire(QUERY_SLOT_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            acquired = false;
        }
        if (!acquired) {
            refused.increment();
            throw HistoryLimitException.busy(config.historyMaxConcurrentQueries());
        }
        try {
            return query.get();
        } catch (HistoryLimitException e) {
            refused.increment();
            throw e;
        } finally {
            querySlots.release();
        }
    }

    /** History queries refused for their size or for want of a slot, since start. */
    long refusedCount() {
        return refused.sum();
    }
}
