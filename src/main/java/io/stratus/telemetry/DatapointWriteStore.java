package io.stratus.telemetry;

import io.stratus.store.BatchWriter;
import io.stratus.store.Dialect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * SQL run inside the datapoint writer's transactions: points into the datapoint (history) and datastream (latest
 * value) tables, binary points, and the removal of a deleted device's rows.
 */
final class DatapointWriteStore {
    // The latest value is replaced only by a point at least as new (D22, docs/decisions.md), which Dialect.upsert
    // cannot say.
    private static final String UPSERT_LATEST = "INSERT INTO datastream (device_id, stream, uuid, create_time, update_time, "
            + "latest_at, latest_value) VALUES (?,?,?,?,?,?,?) ON CONFLICT (device_id, stream) DO UPDATE SET "
            + "update_time = excluded.update_time, latest_at = excluded.latest_at, latest_value = excluded.latest_value "
            + "WHERE datastream.latest_at IS NULL OR excluded.latest_at >= datastream.latest_at";
    /** Key of a batch's newest point per stream, written once at the batch's end. */
    private static final Object LATEST = new Object();

    private record StreamKey(long deviceId, String stream) {}

    private record Latest(long at, String valueJson, long now) {}

    /** A point with the time of a stored one replaces it (D21). */
    private final String insertHistory;
    /** A redelivered type-2 point replaces its blob (D16). */
    private final String insertBinary;
    /**
     * PostgreSQL's pgjdbc sends a batch of inserts as one multi-row INSERT, which may not touch a row twice ("ON
     * CONFLICT DO UPDATE command cannot affect row a second time"): there a message's points are written once per key.
     */
    private final boolean onePointPerKey;

    DatapointWriteStore(Dialect dialect) {
        this.onePointPerKey = dialect == Dialect.POSTGRESQL;
        this.insertHistory = dialect.replace("datapoint", List.of("device_id", "stream", "ts"), List.of("value"));
        this.insertBinary = dialect.replace("bindata", List.of("idx"),
                List.of("device_id", "stream", "description", "content", "create_time"));
    }

    /**
     * Writes points of one device inside the writer's transaction: history upsert (D21) now, and the latest value
     * (D22) of each stream once per batch, at its end: a batch holds many messages of the same streams, and only
     * the newest point of each can become the stream's latest (ties: the later one, as the upsert's {@code >=}).
     */
    void insert(BatchWriter.Batch batch, long deviceId, List<StoredPoint> points, long now) throws SQLException {
        PreparedStatement history = batch.statement(insertHistory);
        Map<StreamKey, Latest> latest = batch.shared(LATEST, HashMap::new);
        for (StoredPoint p : onePointPerKey ? lastOfEachKey(points) : points) {
            history.setLong(1, deviceId);
            history.setString(2, p.stream());
            history.setLong(3, p.at());
            history.setString(4, p.valueJson());
            history.addBatch();
            latest.merge(new StreamKey(deviceId, p.stream()), new Latest(p.at(), p.valueJson(), now),
                    (old, next) -> next.at() >= old.at() ? next : old);
        }
        history.executeBatch();
        batch.atEnd(LATEST, DatapointWriteStore::writeLatest);
    }

    private record PointKey(String stream, long at) {}

    /**
     * {@code points} without those followed by a point of the same stream and time: the rows SQLite's replace,
     * row after row, leaves. The list itself when no two share a key, as nearly always.
     */
    private static List<StoredPoint> lastOfEachKey(List<StoredPoint> points) {
        if (points.size() < 2) {
            return points;
        }
        Set<PointKey> seen = new HashSet<>();
        for (StoredPoint p : points) {
            if (!seen.add(new PointKey(p.stream(), p.at()))) {
                seen.clear();
                List<StoredPoint> last = new ArrayList<>(points.size());
                for (int i = points.size() - 1; i >= 0; i--) {
                    StoredPoint q = points.get(i);
                    if (seen.add(new PointKey(q.stream(), q.at()))) {
                        last.add(q);
                    }
                }
                return last;
            }
        }
        return points;
    }

    private static void writeLatest(BatchWriter.Batch batch) throws SQLException {
        Map<StreamKey, Latest> latest = batch.shared(LATEST, HashMap::new);
        if (latest.isEmpty()) {
            return;
        }
        PreparedStatement ps = batch.statement(UPSERT_LATEST);
        // In key order: writers that upsert overlapping streams (nodes sharing one PostgreSQL) lock the rows in the
        // same order, so that they wait for each other instead of deadlocking.
        List<Map.Entry<StreamKey, Latest>> entries = new ArrayList<>(latest.entrySet());
        entries.sort(Map.Entry.comparingByKey(Comparator.comparingLong(StreamKey::deviceId).thenComparing(StreamKey::stream)));
        for (Map.Entry<StreamKey, Latest> e : entries) {
            Latest l = e.getValue();
            ps.setLong(1, e.getKey().deviceId());
            ps.setString(2, e.getKey().stream());
            ps.setString(3, UUID.randomUUID().toString());
            ps.setLong(4, l.now());
            ps.setLong(5, l.now());
            ps.setLong(6, l.at());
            ps.setString(7, l.valueJson());
            ps.addBatch();
        }
        ps.executeBatch();
    }

    void insertBinary(Connection c, String index, long deviceId, String stream, String description, byte[] content,
                      long now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(insertBinary)) {
            ps.setString(1, index);
            ps.setLong(2, deviceId);
            ps.setString(3, stream);
            ps.setString(4, description);
            ps.setBytes(5, content);
            ps.setLong(6, now);
            ps.executeUpdate();
        }
    }

    /** Removes everything a device stored: streams, history and binary points (and latest values its batch still holds). */
    static void deleteDevice(BatchWriter.Batch batch, long deviceId) throws SQLException {
        Map<StreamKey, Latest> latest = batch.shared(LATEST, HashMap::new);
        latest.keySet().removeIf(k -> k.deviceId() == deviceId);
        Connection c = batch.connection();
        for (String sql : List.of("DELETE FROM datapoint WHERE device_id = ?", "DELETE FROM datastream WHERE device_id = ?",
                "DELETE FROM bindata WHERE device_id = ?")) {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, deviceId);
                ps.executeUpdate();
            }
        }
    }
}
