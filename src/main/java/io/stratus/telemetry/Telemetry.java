package io.stratus.telemetry;

import io.stratus.Config;
import io.stratus.broker.Broker;
import io.stratus.broker.Publisher;
import io.stratus.device.Device;
import io.stratus.device.DeviceListener;
import io.stratus.device.DeviceRegistry;
import io.stratus.store.BatchWriters;
import io.stratus.store.Database;
import io.stratus.store.ProductCleanup;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
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

    private final Config config;
    private final DpDecoder decoder;
    private final DatapointStore store;
    private final DatapointWriteStore writes;
    private final BatchWriters writers;
    private final Forwarding forwarding;
    private final History history;
    private final Retention retention;
    private final Map<String, Long> lastServerTime = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final ApiTimeFormat apiTime;
    private final LongAdder storedPoints = new LongAdder();

    /**
     * @param writers the {@code datapoint} writers: a device's points are committed on the thread of its writer, and
     *                forwarded from there
     */
    public Telemetry(Config config, Database database, Broker broker, BatchWriters writers) {
        this.config = config;
        this.decoder = new DpDecoder(config.timezone(), config.binaryTimezone(), config.dpType7ConsecutiveStreams()
                ? DpDecoder.Type7Mode.CONSECUTIVE_STREAMS : DpDecoder.Type7Mode.ONE_STREAM);
        this.store = new DatapointStore(database);
        this.writes = new DatapointWriteStore(database.dialect());
        this.history = new History(config, store, new HistoryStore(database));
        this.writers = writers;
        // D21 (docs/decisions.md) across restarts: a burst of points without time runs its receive times ahead of the
        // clock (1 ms apart). Streams whose latest point is at or past now continue after it, so no new point replaces
        // a stored one. A device's own far-future times (more than a day ahead) are not followed.
        long now = System.currentTimeMillis();
        lastServerTime.putAll(store.latestTimesBetween(now - 1_000, now + 86_400_000L));
        this.apiTime = new ApiTimeFormat(config.apiTimezone());
        this.forwarding = new Forwarding(config, broker, apiTime);
        this.retention = new Retention(config, store, database);
    }

    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    /** A deleted device's points go, through the writer, after whatever of its points is queued before. */
    public DeviceListener deviceEvents() {
        return new DeviceListener() {
            @Override
            public void removed(Device device) {
                writers.forKey(device.id()).submitBatched(b -> DatapointWriteStore.deleteDevice(b, device.id()));
                lastServerTime.keySet().removeIf(k -> k.startsWith(device.id() + "/"));
            }
        };
    }

    /**
     * A deleted product's points go in its deletion's transaction; the per-device delete of {@link #deviceEvents()}
     * then also clears what a batch in flight still held.
     */
    public ProductCleanup productCleanup() {
        return DatapointStore::deleteProduct;
    }

    // ---- ingest -----------------------------------------------------------------------------------

    /** The {@code $dp} system-topic handler: decodes on the device's event loop, completes after the commit. */
    public CompletableFuture<Void> onDp(Publisher publisher, String topic, byte[] payload, int qos) {
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

    /** See {@link DpDecoder#decodeUpload}. */
    public List<Datapoint> decodeUpload(int type, byte[] body) throws DpFormatException {
        return decoder.decodeUpload(type, body);
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
                valueJson = ValueJson.compact(p.value());
            }
            stored.add(new StoredPoint(p.stream(), at, valueJson));
        }
        if (stored.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> committed = writers.forKey(deviceId).submitBatched(batch -> {
            writes.insert(batch, deviceId, stored, now);
            for (BinaryWrite b : binaries) {
                writes.insertBinary(batch.connection(), b.index, deviceId, b.stream, b.desc, b.content, now);
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
                forwarding.forward(productId, deviceId, stored, qos);
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

    public long storedPointCount() {
        return storedPoints.sum();
    }

    public int writerQueueDepth() {
        return writers.queueDepth();
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
        return history.history(deviceId, q);
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
        return history.sampled(deviceId, q, buckets);
    }

    /** History queries refused for their size or for want of a slot, since start. */
    public long historyRefusedCount() {
        return history.refusedCount();
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

    /** Deletes history older than {@code history.max-age-days}; runs beside ingest, one stream at a time. */
    public int enforceRetention() {
        return retention.enforce();
    }

    /** A time as the API writes it: {@code yyyy-MM-dd HH:mm:ss.SSS} in {@code api.timezone}. */
    public String formatTime(long epochMillis) {
        return apiTime.format(epochMillis);
    }

    /** Stops retention; the datapoint writer is its creator's to close. */
    @Override
    public void close() {
        retention.close();
    }
}
