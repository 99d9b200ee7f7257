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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * SQL for the datastream (latest value) table, binary points read back, and deletions outside the datapoint writer
 * (a stream, a product's rows, retention). Writes of points are {@link DatapointWriteStore}, history reads {@link HistoryStore}.
 */
final class DatapointStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String STREAM_COLUMNS =
            "device_id, stream, uuid, create_time, update_time, unit, unit_symbol, tags, latest_at, latest_value";

    private final Database db;
    private final String createStream;

    DatapointStore(Database db) {
        this.db = db;
        this.createStream = db.dialect().insertIfAbsent("datastream", List.of("device_id", "stream"),
                List.of("uuid", "create_time", "update_time", "unit", "unit_symbol", "tags"));
    }

    /**
     * The latest time of each stream whose latest point lies in [from, to], keyed "deviceId/stream": after a restart
     * these streams' receive times continue from there (D21, docs/decisions.md). One scan of the datastream table, at
     * start-up.
     */
    Map<String, Long> latestTimesBetween(long from, long to) {
        return db.withConnection(c -> {
            Map<String, Long> out = new HashMap<>();
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
            try (PreparedStatement ps = c.prepareStatement(createStream)) {
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
