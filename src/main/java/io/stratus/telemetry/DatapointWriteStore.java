package io.stratus.telemetry;

import io.stratus.store.BatchWriter;
import io.stratus.store.BulkReplace;
import io.stratus.store.Dialect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    private final BulkReplace insertHistory;
    /** A redelivered type-2 point replaces its blob (D16). */
    private final String insertBinary;
    /** The history rows of a batch, written once at its end ({@link #writePoints}). */
    private static final Object POINTS = new Object();
    private final BatchWriter.BatchedWrite writePoints = this::writePoints;

    DatapointWriteStore(Dialect dialect) {
        this.insertHistory = new BulkReplace(dialect, "datapoint", List.of("device_id", "stream", "ts"), List.of("value"));
        this.insertBinary = dialect.replace("bindata", List.of("idx"),
                List.of("device_id", "stream", "description", "content", "create_time"));
    }

    /**
     * Writes points of one device inside the writer's transaction. Both history (D21) and the latest value (D22) of
     * each stream are written once per batch, at its end: a batch holds many messages, and one statement execution for
     * all of them is one round trip to a database server (pgjdbc sends it as multi-row INSERTs), where one per message
     * made PostgreSQL's ingest a third of SQLite's. A later point with the key (device, stream, time) of an earlier one
     * in the batch replaces it, as the store would row after row; so no multi-row INSERT touches a row twice, which
     * PostgreSQL refuses ("ON CONFLICT DO UPDATE command cannot affect row a second time"). Only the newest point of
     * each stream can become its latest (ties: the later one, as the upsert's {@code >=}).
     */
    void insert(BatchWriter.Batch batch, long deviceId, List<StoredPoint> points, long now) throws SQLException {
        Map<PointKey, String> rows = batch.shared(POINTS, LinkedHashMap::new);
        Map<StreamKey, Latest> latest = batch.shared(LATEST, HashMap::new);
        for (StoredPoint p : points) {
            rows.put(new PointKey(deviceId, p.stream(), p.at()), p.valueJson());
            latest.merge(new StreamKey(deviceId, p.stream()), new Latest(p.at(), p.valueJson(), now),
                    (old, next) -> next.at() >= old.at() ? next : old);
        }
        batch.atEnd(POINTS, writePoints);
        batch.atEnd(LATEST, DatapointWriteStore::writeLatest);
    }

    private record PointKey(long deviceId, String stream, long at) {}

    private void writePoints(BatchWriter.Batch batch) throws SQLException {
        Map<PointKey, String> rows = batch.shared(POINTS, LinkedHashMap::new);
        insertHistory.write(batch, rows.entrySet(), (row, values) -> values.add(row.getKey().deviceId())
                .add(row.getKey().stream()).add(row.getKey().at()).add(row.getValue()));
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
