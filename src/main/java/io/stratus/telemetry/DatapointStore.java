package io.stratus.telemetry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** SQL for the datastream (latest value) and datapoint (history) tables, and binary points. */
final class DatapointStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String STREAM_COLUMNS =
            "device_id, stream, uuid, create_time, update_time, unit, unit_symbol, tags, latest_at, latest_value";

    private final Database db;

    DatapointStore(Database db) {
        this.db = db;
    }

    /**
     * The latest time of each stream whose latest point lies in [from, to], keyed "deviceId/stream": after a restart
     * these streams' receive times continue from there (D21). One scan of the datastream table, at start-up.
     */
    Map<String, Long> latestTimesBetween(long from, long to) {
        return db.withConnection(c -> {
            Map<String, Long> out = new java.util.HashMap<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT device_id, stream, latest_at FROM datastream WHERE latest_at >= ? AND latest_at <= ?")) {
                ps.setLong(1, from);
                ps.setLong(2, to);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.put(rs.getLong(1) + "/" + rs.getString(2), rs.getLong(3));
                    }
                }
            }
            return out;
        });
    }

    private static final String INSERT_HISTORY = "INSERT OR REPLACE INTO datapoint (device_id, stream, ts, value) VALUES (?,?,?,?)";
    private static final String UPSERT_LATEST = "INSERT INTO datastream (device_id, stream, uuid, create_time, update_time, "
            + "latest_at, latest_value) VALUES (?,?,?,?,?,?,?) ON CONFLICT (device_id, stream) DO UPDATE SET "
            + "update_time = excluded.update_time, latest_at = excluded.latest_at, latest_value = excluded.latest_value "
            + "WHERE datastream.latest_at IS NULL OR excluded.latest_at >= datastream.latest_at";
    /** Key of a batch's newest point per stream, written once at the batch's end. */
    private static final Object LATEST = new Object();

    private record StreamKey(long deviceId, String stream) {}

    private record Latest(long at, String valueJson, long now) {}

    /**
     * Writes points of one device inside the writer's transaction: history upsert (D21) now, and the latest value
     * (D22) of each stream once per batch, at its end: a batch holds many messages of the same streams, and only
     * the newest point of each can become the stream's latest (ties: the later one, as the upsert's {@code >=}).
     */
    static void insert(BatchWriter.Batch batch, long deviceId, List<StoredPoint> points, long now) throws SQLException {
        PreparedStatement history = batch.statement(INSERT_HISTORY);
        Map<StreamKey, Latest> latest = batch.shared(LATEST, HashMap::new);
        for (StoredPoint p : points) {
            history.setLong(1, deviceId);
            history.setString(2, p.stream());
            history.setLong(3, p.at());
            history.setString(4, p.valueJson());
            history.addBatch();
            latest.merge(new StreamKey(deviceId, p.stream()), new Latest(p.at(), p.valueJson(), now),
                    (old, next) -> next.at() >= old.at() ? next : old);
        }
        history.executeBatch();
        batch.atEnd(LATEST, DatapointStore::writeLatest);
    }

    private static void writeLatest(BatchWriter.Batch batch) throws SQLException {
        Map<StreamKey, Latest> latest = batch.shared(LATEST, HashMap::new);
        if (latest.isEmpty()) {
            return;
        }
        PreparedStatement ps = batch.statement(UPSERT_LATEST);
        for (Map.Entry<StreamKey, Latest> e : latest.entrySet()) {
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

    static void insertBinary(Connection c, String index, long deviceId, String stream, String description, byte[] content,
                             long now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT OR REPLACE INTO bindata (idx, device_id, stream, description, content, create_time) VALUES (?,?,?,?,?,?)")) {
            ps.setString(1, index);
            ps.setLong(2, deviceId);
            ps.setString(3, stream);
            ps.setString(4, description);
            ps.setBytes(5, content);
            ps.setLong(6, now);
            ps.executeUpdate();
        }
    }

    /** A binary point's bytes and owner. */
    record Binary(long deviceId, String stream, byte[] content) {}

    Optional<Binary> binary(String index) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT device_id, stream, content FROM bindata WHERE idx = ?")) {
                ps.setString(1, index);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new Binary(rs.getLong(1), rs.getString(2), rs.getBytes(3))) : Optional.empty();
                }
            }
        });
    }

    /** Creates an empty stream; false when it exists. */
    boolean createStream(long deviceId, String stream, String unit, String unitSymbol, List<String> tags, long now) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO datastream (device_id, stream, uuid, create_time, "
                    + "update_time, unit, unit_symbol, tags) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING")) {
                ps.setLong(1, deviceId);
                ps.setString(2, stream);
                ps.setString(3, UUID.randomUUID().toString());
                ps.setLong(4, now);
                ps.setLong(5, now);
                ps.setString(6, unit == null ? "" : unit);
                ps.setString(7, unitSymbol == null ? "" : unitSymbol);
                ps.setString(8, json(tags == null ? List.of() : tags));
                return ps.executeUpdate() == 1;
            }
        });
    }

    boolean updateStream(long deviceId, String stream, String unit, String unitSymbol, List<String> tags, long now) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE datastream SET unit = COALESCE(?, unit), "
                    + "unit_symbol = COALESCE(?, unit_symbol), tags = COALESCE(?, tags), update_time = ? WHERE device_id = ? AND stream = ?")) {
                ps.setString(1, unit);
                ps.setString(2, unitSymbol);
                ps.setString(3, tags == null ? null : json(tags));
                ps.setLong(4, now);
                ps.setLong(5, deviceId);
                ps.setString(6, stream);
                return ps.executeUpdate() == 1;
            }
        });
    }

    /** Deletes a stream with its history and binary points; false when there is no such stream. */
    boolean deleteStream(long deviceId, String stream) {
        return db.inTransaction(c -> {
            try (PreparedStatement points = c.prepareStatement("DELETE FROM datapoint WHERE device_id = ? AND stream = ?");
                 PreparedStatement blobs = c.prepareStatement("DELETE FROM bindata WHERE device_id = ? AND stream = ?");
                 PreparedStatement ds = c.prepareStatement("DELETE FROM datastream WHERE device_id = ? AND stream = ?")) {
                points.setLong(1, deviceId);
                points.setString(2, stream);
                points.executeUpdate();
                blobs.setLong(1, deviceId);
                blobs.setString(2, stream);
                blobs.executeUpdate();
                ds.setLong(1, deviceId);
                ds.setString(2, stream);
                return ds.executeUpdate() == 1;
            }
        });
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

    /** Streams, history and binary points of every device of a product, in the product's deletion transaction. */
    static void deleteProduct(Connection c, long productId) throws SQLException {
        for (String table : List.of("datapoint", "datastream", "bindata")) {
            try (PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM " + table + " WHERE device_id IN (SELECT id FROM device WHERE product_id = ?)")) {
                ps.setLong(1, productId);
                ps.executeUpdate();
            }
        }
    }

    /** The streams of a device, all (ids empty) or those named, by id. */
    List<Datastream> streams(long deviceId, Collection<String> ids) {
        return db.withConnection(c -> {
            StringBuilder sql = new StringBuilder("SELECT " + STREAM_COLUMNS + " FROM datastream WHERE device_id = ?");
            if (!ids.isEmpty()) {
                sql.append(" AND stream IN (").append("?,".repeat(ids.size() - 1)).append("?)");
            }
            sql.append(" ORDER BY stream");
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                ps.setLong(1, deviceId);
                int i = 2;
                for (String id : ids) {
                    ps.setString(i++, id);
                }
                List<Datastream> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long at = rs.getLong(9);
                        Long latestAt = rs.wasNull() ? null : at; // right after its getLong: wasNull() is about the last read
                        out.add(new Datastream(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5),
                                rs.getString(6), rs.getString(7), tags(rs.getString(8)), latestAt, rs.getString(10)));
                    }
                }
                return out;
            }
        });
    }

    /**
     * Points of the given streams in [from, to], ordered by (time, stream), after the keyset position
     * {@code after} when given, at most {@code limit}.
     */
    List<StoredPoint> range(long deviceId, Collection<String> streams, long from, long to, boolean descending,
                            Cursor after, int limit, ReplyBudget budget) {
        return db.withConnection(c -> {
            StringBuilder sql = new StringBuilder("SELECT stream, ts, value FROM datapoint WHERE device_id = ? AND stream IN (")
                    .append("?,".repeat(streams.size() - 1)).append("?) AND ts >= ? AND ts <= ?");
            if (after != null) {
                sql.append(descending ? " AND (ts, stream) < (?, ?)" : " AND (ts, stream) > (?, ?)");
            }
            String dir = descending ? " DESC" : " ASC";
            sql.append(" ORDER BY ts").append(dir).append(", stream").append(dir).append(" LIMIT ?");
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                int i = 1;
                ps.setLong(i++, deviceId);
                for (String s : streams) {
                    ps.setString(i++, s);
                }
                ps.setLong(i++, from);
                ps.setLong(i++, to);
                if (after != null) {
                    ps.setLong(i++, after.at());
                    ps.setString(i++, after.stream());
                }
                ps.setInt(i, limit);
                List<StoredPoint> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String value = rs.getString(3);
                        budget.take(value);
                        out.add(new StoredPoint(rs.getString(1), rs.getLong(2), value));
                    }
                }
                return out;
            }
        });
    }

    /** How many points of a stream lie in a window, and the times of the first and last. */
    record Extent(long count, long first, long last) {}

    /** Per stream that has points in [from, to]: their count and time span. */
    Map<String, Extent> extents(long deviceId, Collection<String> streams, long from, long to) {
        return db.withConnection(c -> {
            String sql = "SELECT stream, COUNT(*), MIN(ts), MAX(ts) FROM datapoint WHERE device_id = ? AND stream IN ("
                    + "?,".repeat(streams.size() - 1) + "?) AND ts >= ? AND ts <= ? GROUP BY stream";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                ps.setLong(i++, deviceId);
                for (String s : streams) {
                    ps.setString(i++, s);
                }
                ps.setLong(i++, from);
                ps.setLong(i, to);
                Map<String, Extent> out = new LinkedHashMap<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.put(rs.getString(1), new Extent(rs.getLong(2), rs.getLong(3), rs.getLong(4)));
                    }
                }
                return out;
            }
        });
    }

    /**
     * Points of the given streams in [from, to] reduced to at most two per time bucket of {@code width} ms
     * counted from {@code from}: the point with the smallest and the one with the largest numeric value, so
     * that spikes survive (an average would hide them). In a bucket without numbers (strings, objects) the
     * first and the last point stand in. Ordered by (time, stream).
     *
     * <p>One pass over the window in primary-key order, bucketed here rather than in SQL: a window-function
     * query (ROW_NUMBER per bucket) sorts every row and took seconds for a week of 1 Hz points, and SQLite's
     * GROUP BY cannot return the row of both the minimum and the maximum at once.
     */
    List<StoredPoint> minMaxPerBucket(long deviceId, Collection<String> streams, long from, long to, long width,
                                      ReplyBudget budget) {
        return db.withConnection(c -> {
            List<StoredPoint> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT ts, value FROM datapoint WHERE device_id = ? AND stream = ? "
                    + "AND ts >= ? AND ts <= ? ORDER BY ts")) {
                for (String stream : streams) {
                    ps.setLong(1, deviceId);
                    ps.setString(2, stream);
                    ps.setLong(3, from);
                    ps.setLong(4, to);
                    Bucket bucket = null;
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            long ts = rs.getLong(1);
                            long index = Math.floorDiv(ts - from, width);
                            if (bucket == null || bucket.index != index) {
                                if (bucket != null) {
                                    bucket.emit(out, budget);
                                }
                                bucket = new Bucket(stream, index);
                            }
                            bucket.add(ts, rs.getString(2));
                        }
                    }
                    if (bucket != null) {
                        bucket.emit(out, budget);
                    }
                }
            }
            out.sort(Comparator.comparingLong(StoredPoint::at).thenComparing(StoredPoint::stream));
            return out;
        });
    }

    /** One time bucket of one stream while it is being read: its extremes, and its ends for non-numbers. */
    private static final class Bucket {
        final String stream;
        final long index;
        StoredPoint first;
        long lastAt;
        String lastValue;
        StoredPoint min;
        StoredPoint max;
        double minValue;
        double maxValue;

        Bucket(String stream, long index) {
            this.stream = stream;
            this.index = index;
        }

        void add(long ts, String valueJson) {
            StoredPoint p = null;
            if (first == null) {
                first = p = new StoredPoint(stream, ts, valueJson);
            }
            lastAt = ts;
            lastValue = valueJson;
            double v = number(valueJson);
            if (Double.isNaN(v)) {
                return;
            }
            if (min == null || v < minValue) {
                min = p != null ? p : (p = new StoredPoint(stream, ts, valueJson));
                minValue = v;
            }
            if (max == null || v > maxValue) {
                max = p != null ? p : new StoredPoint(stream, ts, valueJson);
                maxValue = v;
            }
        }

        void emit(List<StoredPoint> out, ReplyBudget budget) {
            StoredPoint a = min != null ? min : first;
            StoredPoint b = min != null ? max : lastAt == first.at() ? first : new StoredPoint(stream, lastAt, lastValue);
            budget.take(a.valueJson());
            out.add(a.at() <= b.at() ? a : b);
            if (a != b) {
                budget.take(b.valueJson());
                out.add(a.at() <= b.at() ? b : a);
            }
        }

        /** The value of a JSON number, NaN for any other JSON value. */
        private static double number(String json) {
            char c = json.isEmpty() ? ' ' : json.charAt(0);
            if (c != '-' && (c < '0' || c > '9')) {
                return Double.NaN;
            }
            try {
                return Double.parseDouble(json);
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
    }

    /**
     * Deletes history older than {@code before}, one stream per transaction (each a primary-key range), so
     * the writer is never held up for long. Returns the number of points deleted.
     */
    int deleteOlderThan(long before) {
        List<Datastream> all = db.withConnection(c -> {
            List<Datastream> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT device_id, stream FROM datastream");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Datastream(rs.getLong(1), rs.getString(2), null, 0, 0, null, null, List.of(), null, null));
                }
            }
            return out;
        });
        int deleted = 0;
        for (Datastream d : all) {
            deleted += db.withConnection(c -> {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM datapoint WHERE device_id = ? AND stream = ? AND ts < ?")) {
                    ps.setLong(1, d.deviceId());
                    ps.setString(2, d.id());
                    ps.setLong(3, before);
                    return ps.executeUpdate();
                }
            });
        }
        return deleted;
    }

    private static String json(List<String> tags) {
        try {
            return JSON.writeValueAsString(tags);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static List<String> tags(String json) {
        try {
            return json == null ? List.of() : JSON.readValue(json, new TypeReference<List<String>>() {});
        } catch (JsonProcessingException e) {
            return List.of();
        }
    }
}
