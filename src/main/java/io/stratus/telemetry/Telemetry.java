package io.stratus.telemetry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.NumberOutput;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.stratus.Config;
import io.stratus.broker.Broker;
import io.stratus.broker.Message;
import io.stratus.broker.Publisher;
import io.stratus.device.Device;
import io.stratus.device.DeviceListener;
import io.stratus.device.DeviceRegistry;
import io.stratus.monitor.Worker;
import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import io.stratus.store.StoreAvailability;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Data points: `$dp` ingest (decode, time assignment, durable group-committed storage, then forwarding to
 * {@code /{device_id}/{stream}} subscribers), HTTP uploads, history and latest-value queries, retention.
 * A QoS 1/2 `$dp` is acknowledged only after its points are committed: the future returned to the MQTT layer
 * completes after the commit.
 */
public final class Telemetry implements AutoCloseable {
    /** Told of every committed batch of points of a device, after the commit; must not block. */
    public interface Listener {
        void stored(long productId, long deviceId, List<StoredPoint> points);
    }

    private static final Logger log = LoggerFactory.getLogger(Telemetry.class);
    /** Shortest round-trip doubles (Java 17's Double.toString is not always shortest: 1e23). */
    private static final ObjectMapper JSON = JsonMapper.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();

    private final Config config;
    private final Broker broker;
    private final DpDecoder decoder;
    private final DatapointStore store;
    private final BatchWriter writer;
    private final Map<String, Long> lastServerTime = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final DateTimeFormatter apiTime;
    private final ScheduledExecutorService retention;
    private final LongAdder storedPoints = new LongAdder();
    /** How long a history query waits for a slot before errno 13. */
    static final long QUERY_SLOT_WAIT_MILLIS = 5_000;
    private final Semaphore querySlots;
    private final LongAdder historyRefused = new LongAdder();

    public Telemetry(Config config, Database database, Broker broker, DeviceRegistry registry) {
        this.config = config;
        this.broker = broker;
        this.decoder = new DpDecoder(config.timezone(), config.binaryTimezone(), config.dpType7ConsecutiveStreams()
                ? DpDecoder.Type7Mode.CONSECUTIVE_STREAMS : DpDecoder.Type7Mode.ONE_STREAM);
        this.store = new DatapointStore(database);
        this.querySlots = new Semaphore(config.historyMaxConcurrentQueries());
        this.writer = new BatchWriter(database, "datapoint", 65_536, 1_000);
        // D21 across restarts: a burst of points without time runs its receive times ahead of the clock (1 ms apart).
        // Streams whose latest point is at or past now continue after it, so no new point replaces a stored one.
        // A device's own far-future times (more than a day ahead) are not followed.
        long now = System.currentTimeMillis();
        lastServerTime.putAll(store.latestTimesBetween(now - 1_000, now + 86_400_000L));
        this.apiTime = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(config.apiTimezone());
        broker.registerSystemTopic("$dp", (publisher, topic, payload, qos) -> onDp(publisher, payload, qos));
        registry.addListener(new DeviceListener() {
            @Override
            public void removed(Device device) {
                writer.submitBatched(b -> DatapointStore.deleteDevice(b, device.id()));
                lastServerTime.keySet().removeIf(k -> k.startsWith(device.id() + "/"));
            }
        });
        // A deleted product's points go in its deletion's transaction; the per-device delete above then also clears
        // what a batch in flight still held.
        registry.addProductCleanup(DatapointStore::deleteProduct);
        this.retention = config.historyMaxAge().isZero() ? null : startRetention();
    }

    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    // ---- ingest -----------------------------------------------------------------------------------

    private CompletableFuture<Void> onDp(Publisher publisher, byte[] payload, int qos) {
        if (publisher.deviceId() == 0) {
            return CompletableFuture.failedFuture(new IllegalStateException("only devices can upload data points"));
        }
        List<Datapoint> points;
        try {
            points = decoder.decode(payload);
        } catch (DpFormatException e) {
            if (config.dpDisconnectOnError()) {
                return CompletableFuture.failedFuture(e); // D6: the device is disconnected with this reason
            }
            log.warn("[{}] malformed $dp dropped: {}", publisher.clientId(), e.getMessage());
            return CompletableFuture.completedFuture(null);
        }
        return store(publisher.productId(), publisher.deviceId(), points, qos);
    }

    /** Stores points uploaded over HTTP; they are forwarded as if uploaded at QoS 1. */
    public CompletableFuture<Void> upload(long productId, long deviceId, List<Datapoint> points) {
        return store(productId, deviceId, points, 1);
    }

    /**
     * Parses an HTTP upload body of type 1, 3, 4 or 5: the bytes a `$dp` payload of that type carries after its u16
     * length, decoded by the same rules. Offsets in errors count from the body's first byte.
     */
    public List<Datapoint> decodeUpload(int type, byte[] body) throws DpFormatException {
        if (type != 1 && type != 3 && type != 4 && type != 5) {
            throw new IllegalArgumentException("type " + type + " has no HTTP body form");
        }
        if (body.length > 0xFFFF) {
            throw new DpFormatException("body too long: " + body.length + " bytes (at most 65535)", 0);
        }
        byte[] payload = new byte[body.length + 3];
        payload[0] = (byte) type;
        payload[1] = (byte) (body.length >> 8);
        payload[2] = (byte) body.length;
        System.arraycopy(body, 0, payload, 3, body.length);
        try {
            return decoder.decode(payload);
        } catch (DpFormatException e) {
            throw new DpFormatException(e.reason(), Math.max(0, e.offset() - 3));
        }
    }

    private CompletableFuture<Void> store(long productId, long deviceId, List<Datapoint> points, int qos) {
        long now = System.currentTimeMillis();
        List<StoredPoint> stored = new ArrayList<>(points.size());
        List<BinaryWrite> binaries = new ArrayList<>(0);
        for (Datapoint p : points) {
            long at = p.at() != null ? p.at() : serverTime(deviceId, p.stream(), now);
            String valueJson;
            if (p.binary() != null) {
                String index = binaryIndex(deviceId, at, p.stream());
                binaries.add(new BinaryWrite(index, p.stream(), p.binaryDesc(), p.binary()));
                valueJson = "{\"index\":\"" + index + "\"}"; // D16
            } else {
                valueJson = compact(p.value());
            }
            stored.add(new StoredPoint(p.stream(), at, valueJson));
        }
        if (stored.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> committed = writer.submitBatched(batch -> {
            DatapointStore.insert(batch, deviceId, stored, now);
            for (BinaryWrite b : binaries) {
                DatapointStore.insertBinary(batch.connection(), b.index, deviceId, b.stream, b.desc, b.content, now);
            }
        });
        // The caller's acknowledgement waits for the hand-off below, so that the points' forwards are routed before the
        // PUBACK: a message the device sends after its PUBACK cannot overtake them.
        return committed.whenComplete((v, failure) -> {
            if (failure != null) {
                return; // not stored: the caller reports it (no PUBACK, errno 13); nothing to forward
            }
            try {
                storedPoints.add(stored.size());
                forward(productId, deviceId, stored, qos);
                listeners.forEach(l -> l.stored(productId, deviceId, stored));
            } catch (RuntimeException e) {
                log.error("forwarding points of device {} failed: {}", deviceId, e.toString());
            }
        });
    }

    private record BinaryWrite(String index, String stream, String desc, byte[] content) {}

    /**
     * D16: the index of a blob, one per (device, time, stream), so that a redelivered type-2 point replaces its blob
     * as its point is replaced (D21). The stream is named by 64 bits of its SHA-256: {@code String.hashCode} made
     * the streams "Aa" and "BB" share an index, and one blob overwrote the other.
     */
    static String binaryIndex(long deviceId, long at, String stream) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(stream.getBytes(StandardCharsets.UTF_8));
            return deviceId + "_" + at + "_" + HexFormat.of().formatHex(digest, 0, 8) + "_bin";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** D21: receive times strictly increase per stream, so points without a time never collide. */
    private long serverTime(long deviceId, String stream, long now) {
        return lastServerTime.merge(deviceId + "/" + stream, now, (last, n) -> n > last ? n : last + 1);
    }

    /** D4: one PUBLISH per point to {@code /{device_id}/{stream}}, at min(uploader QoS, granted QoS). */
    private void forward(long productId, long deviceId, List<StoredPoint> points, int qos) {
        if (!broker.hasSubscriptions(productId)) {
            return; // nobody could receive them: build no topics or payloads (this runs on the writer's thread)
        }
        String prefix = "/" + deviceId + "/";
        for (StoredPoint p : points) {
            byte[] payload = (config.dpForwardJson() ? forwardJson(p) : valueText(p.valueJson())).getBytes(StandardCharsets.UTF_8);
            broker.publish(productId, new Message(prefix + p.stream(), payload, qos, false));
        }
    }

    private String forwardJson(StoredPoint p) {
        return "{\"id\":" + quote(p.stream()) + ",\"at\":\"" + apiTime.format(Instant.ofEpochMilli(p.at())) + "\",\"value\":"
                + p.valueJson() + "}";
    }

    /** A value as text: numbers and strings as they are, objects and arrays as compact JSON. */
    static String valueText(String valueJson) {
        if (valueJson.startsWith("\"")) {
            try {
                return JSON.readTree(valueJson).asText();
            } catch (JsonProcessingException e) {
                return valueJson;
            }
        }
        return valueJson;
    }

    public long storedPointCount() {
        return storedPoints.sum();
    }

    public int writerQueueDepth() {
        return writer.queueDepth();
    }

    /** The datapoint writer's thread, for readiness and tests. */
    public Worker writerWorker() {
        return writer.worker();
    }

    /**
     * Why the latest datapoint commit failed, when it failed within the last 30 s and none succeeded since (for
     * readiness: a nearly full disk may take a small probe write and still refuse points).
     */
    public String writerFailure() {
        return writer.recentFailure(StoreAvailability.FAILURE_WINDOW_MILLIS);
    }

    // ---- queries ----------------------------------------------------------------------------------

    public List<Datastream> streams(long deviceId, List<String> ids) {
        return store.streams(deviceId, ids);
    }

    public Optional<Datastream> stream(long deviceId, String id) {
        return store.streams(deviceId, List.of(id)).stream().findFirst();
    }

    public boolean createStream(long deviceId, String id, String unit, String unitSymbol, List<String> tags) {
        return store.createStream(deviceId, id, unit, unitSymbol, tags, System.currentTimeMillis());
    }

    public boolean updateStream(long deviceId, String id, String unit, String unitSymbol, List<String> tags) {
        return store.updateStream(deviceId, id, unit, unitSymbol, tags, System.currentTimeMillis());
    }

    public boolean deleteStream(long deviceId, String id) {
        lastServerTime.remove(deviceId + "/" + id);
        return store.deleteStream(deviceId, id);
    }

    public HistoryPage history(long deviceId, HistoryQuery q) {
        List<String> streams = q.streams().isEmpty()
                ? store.streams(deviceId, List.of()).stream().map(Datastream::id).toList() : q.streams();
        if (streams.isEmpty()) {
            return new HistoryPage(List.of(), null);
        }
        if (q.newestOnly()) {
            Comparator<StoredPoint> order = Comparator.comparingLong(StoredPoint::at).thenComparing(StoredPoint::stream);
            List<StoredPoint> newest = store.streams(deviceId, streams).stream()
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

    /** Most buckets a down-sampled query may ask for: with min and max kept, 2 x this many points per stream. */
    public static final int MAX_BUCKETS = 2000;

    /**
     * History of a window reduced for charts (a Stratus extension of the datapoints query): the window of
     * {@code q} without paging; streams with at most {@code 2 * buckets} points there come back whole, and
     * if any stream has more, the time span of the data is cut into {@code buckets} equal buckets and each
     * keeps its minimum and maximum point (at most {@code 2 * buckets} points per stream).
     */
    public SampledHistory sampled(long deviceId, HistoryQuery q, int buckets) {
        if (buckets < 1 || buckets > MAX_BUCKETS) {
            throw new IllegalArgumentException("buckets must be 1.." + MAX_BUCKETS);
        }
        List<String> streams = q.streams().isEmpty()
                ? store.streams(deviceId, List.of()).stream().map(Datastream::id).toList() : q.streams();
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
        Map<String, DatapointStore.Extent> extents = store.extents(deviceId, streams, from, to);
        Map<String, Long> totals = new LinkedHashMap<>();
        extents.forEach((s, e) -> totals.put(s, e.count()));
        if (extents.isEmpty()) {
            return new SampledHistory(List.of(), false, 0, totals);
        }
        long first = extents.values().stream().mapToLong(DatapointStore.Extent::first).min().orElseThrow();
        long last = extents.values().stream().mapToLong(DatapointStore.Extent::last).max().orElseThrow();
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
            historyRefused.increment();
            throw HistoryLimitException.busy(config.historyMaxConcurrentQueries());
        }
        try {
            return query.get();
        } catch (HistoryLimitException e) {
            historyRefused.increment();
            throw e;
        } finally {
            querySlots.release();
        }
    }

    /** History queries refused for their size or for want of a slot, since start. */
    public long historyRefusedCount() {
        return historyRefused.sum();
    }

    /** Bytes and owner of a binary point. */
    public record BinaryPoint(long deviceId, String stream, byte[] content) {}

    public Optional<BinaryPoint> binary(String index) {
        return store.binary(index).map(b -> new BinaryPoint(b.deviceId(), b.stream(), b.content()));
    }

    /** Stores a binary point uploaded over HTTP ({@code POST /bindata}); returns its index. */
    public CompletableFuture<String> uploadBinary(long productId, long deviceId, String stream, String desc, byte[] content) {
        long at = serverTime(deviceId, stream, System.currentTimeMillis());
        Datapoint timed = new Datapoint(stream, at, null, content, desc);
        String index = binaryIndex(deviceId, at, stream);
        return store(productId, deviceId, List.of(timed), 1).thenApply(v -> index);
    }

    // ---- retention --------------------------------------------------------------------------------

    private ScheduledExecutorService startRetention() {
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "retention");
            t.setDaemon(true);
            return t;
        });
        // A periodic task that throws anything is never run again: so nothing may escape.
        s.scheduleWithFixedDelay(() -> {
            try {
                enforceRetention();
            } catch (Throwable t) {
                log.error("Retention run failed: {}", t.toString());
            }
        }, 1, 10, TimeUnit.MINUTES);
        return s;
    }

    /** Deletes history older than {@code history.max-age-days}; runs beside ingest, one stream at a time. */
    public int enforceRetention() {
        if (config.historyMaxAge().isZero()) {
            return 0;
        }
        try {
            int n = store.deleteOlderThan(System.currentTimeMillis() - config.historyMaxAge().toMillis());
            if (n > 0) {
                log.info("Retention removed {} points older than {} days", n, config.historyMaxAge().toDays());
            }
            return n;
        } catch (RuntimeException e) {
            log.warn("Retention run failed: {}", e.getMessage());
            return 0;
        }
    }

    /** A time as the API writes it: {@code yyyy-MM-dd HH:mm:ss.SSS} in {@code api.timezone}. */
    public String formatTime(long epochMillis) {
        return apiTime.format(Instant.ofEpochMilli(epochMillis));
    }

    /**
     * A value as compact JSON. Integers and finite doubles (nearly every uploaded value) are written directly, as
     * Jackson would write them (the shortest round-trip double); everything else goes through Jackson.
     */
    static String compact(JsonNode value) {
        if (value.isInt() || value.isLong()) {
            return Long.toString(value.longValue());
        }
        if (value.isDouble() && Double.isFinite(value.doubleValue())) {
            return NumberOutput.toString(value.doubleValue(), true);
        }
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static String quote(String s) {
        return JSON.getNodeFactory().textNode(s).toString();
    }

    @Override
    public void close() {
        if (retention != null) {
            retention.shutdownNow();
        }
        writer.close();
    }
}
