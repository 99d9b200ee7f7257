package io.stratus.telemetry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.store.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
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

    /** Writes points of one device inside the writer's transaction: history upsert (D21) + latest value (D22). */
    static void insert(Connection c, long deviceId, List<StoredPoint> points, long now) throws SQLException {
        try (PreparedStatement history = c.prepareStatement(
                "INSERT OR REPLACE INTO datapoint (device_id, stream, ts, value) VALUES (?,?,?,?)");
             PreparedStatement latest = c.prepareStatement("INSERT INTO datastream (device_id, stream, uuid, create_time, "
                     + "update_time, latest_at, latest_value) VALUES (?,?,?,?,?,?,?) ON CONFLICT (device_id, stream) DO UPDATE SET "
                     + "update_time = excluded.update_time, latest_at = excluded.latest_at, latest_value = excluded.latest_value "
                     + "WHERE datastream.latest_at IS NULL OR excluded.latest_at >= datastream.latest_at")) {
            for (StoredPoint p : points) {
                history.setLong(1, deviceId);
                history.setString(2, p.stream());
                history.setLong(3, p.at());
                history.setString(4, p.valueJson());
                history.addBatch();
                latest.setLong(1, deviceId);
                latest.setString(2, p.stream());
                latest.setString(3, UUID.randomUUID().toString());
                latest.setLong(4, now);
                latest.setLong(5, now);
                latest.setLong(6, p.at());
                latest.setString(7, p.valueJson());
                latest.addBatch();
            }
            history.executeBatch();
            latest.executeBatch();
        }
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

    boolean deleteStream(long deviceId, String stream) {
        return db.inTransaction(c -> {
            try (PreparedStatement points = c.prepareStatement("DELETE FROM datapoint WHERE device_id = ? AND stream = ?");
                 PreparedStatement ds = c.prepareStatement("DELETE FROM datastream WHERE device_id = ? AND stream = ?")) {
                points.setLong(1, deviceId);
                points.setString(2, stream);
                points.executeUpdate();
                ds.setLong(1, deviceId);
                ds.setString(2, stream);
                return ds.executeUpdate() == 1;
            }
        });
    }

    /** Removes everything a device stored: streams, history and binary points. */
    static void deleteDevice(Connection c, long deviceId) throws SQLException {
        for (String sql : List.of("DELETE FROM datapoint WHERE device_id = ?", "DELETE FROM datastream WHERE device_id = ?",
                "DELETE FROM bindata WHERE device_id = ?")) {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, deviceId);
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
                        long latestAt = rs.getLong(9);
                        out.add(new Datastream(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5),
                                rs.getString(6), rs.getString(7), tags(rs.getString(8)), rs.wasNull() ? null : latestAt,
                                rs.getString(10)));
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
                            Cursor after, int limit) {
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
                        out.add(new StoredPoint(rs.getString(1), rs.getLong(2), rs.getString(3)));
                    }
                }
                return out;
            }
        });
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
