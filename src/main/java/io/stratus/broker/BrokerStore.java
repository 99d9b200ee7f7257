package io.stratus.broker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * SQL for what the broker must remember across a restart: retained messages, persistent sessions and the
 * QoS 1/2 messages owed to them. Writes go through the group-committing writer.
 */
final class BrokerStore {
    /** Owed messages read per statement by {@link #loadMessages}. */
    private static final int LOAD_CHUNK = 256;

    record StoredSession(String key, long productId, String clientId, Map<String, Integer> subscriptions) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Not {@link io.stratus.store.Dialect#upsert}, which replaces every value: the epoch counts the row's writes. This
     * {@code ON CONFLICT} form reads the same in SQLite and PostgreSQL.
     */
    private static final String PUT_SESSION = "INSERT INTO mqtt_session (session_key, product_id, client_id, subscriptions, "
            + "updated_at) VALUES (?,?,?,?,?) ON CONFLICT (session_key) DO UPDATE SET "
            + "subscriptions = excluded.subscriptions, updated_at = excluded.updated_at, epoch = mqtt_session.epoch + 1";
    private final Database db;
    private final BatchWriter writer;
    private final String putRetained;
    private final String putMessage;

    BrokerStore(Database db, BatchWriter writer) {
        this.db = db;
        this.writer = writer;
        this.putRetained = db.dialect().upsert("retained_message", List.of("product_id", "topic"), List.of("qos", "payload"));
        this.putMessage = db.dialect().replace("session_message", List.of("session_key", "seq"),
                List.of("topic", "qos", "retain", "payload", "created_at"));
    }

    CompletableFuture<Void> putRetained(long productId, Message m) {
        return writer.submitUpdate(putRetained, ps -> {
            ps.setLong(1, productId);
            ps.setString(2, m.topic());
            ps.setInt(3, m.qos());
            ps.setBytes(4, m.payload());
        });
    }

    CompletableFuture<Void> deleteRetained(long productId, String topic) {
        return writer.submitUpdate("DELETE FROM retained_message WHERE product_id = ? AND topic = ?", ps -> {
            ps.setLong(1, productId);
            ps.setString(2, topic);
        });
    }

    CompletableFuture<Void> putSession(Session s, Map<String, Integer> subscriptions) {
        String subs = toJson(subscriptions);
        return writer.submitUpdate(PUT_SESSION, ps -> {
            ps.setString(1, s.key);
            ps.setLong(2, s.productId);
            ps.setString(3, s.clientId);
            ps.setString(4, subs);
            ps.setLong(5, System.currentTimeMillis());
        });
    }

    CompletableFuture<Void> deleteSession(String key) {
        return writer.submit(c -> {
            for (String sql : List.of("DELETE FROM session_message WHERE session_key = ?", "DELETE FROM mqtt_session WHERE session_key = ?")) {
                Database.update(c, sql, ps -> ps.setString(1, key));
            }
        });
    }

    /** Retained messages and persistent sessions (with their queued messages) of a product, in its deletion's transaction. */
    static void deleteProduct(Connection c, long productId) throws SQLException {
        for (String sql : List.of("DELETE FROM retained_message WHERE product_id = ?",
                "DELETE FROM session_message WHERE session_key IN (SELECT session_key FROM mqtt_session WHERE product_id = ?)",
                "DELETE FROM mqtt_session WHERE product_id = ?", "DELETE FROM client_owner WHERE product_id = ?")) {
            Database.update(c, sql, ps -> ps.setLong(1, productId));
        }
        UserTopicStore.deleteProduct(c, productId);
    }

    CompletableFuture<Void> putMessage(String sessionKey, long seq, Message m) {
        long now = System.currentTimeMillis();
        return writer.submitUpdate(putMessage, ps -> {
            ps.setString(1, sessionKey);
            ps.setLong(2, seq);
            ps.setString(3, m.topic());
            ps.setInt(4, m.qos());
            ps.setInt(5, m.retain() ? 1 : 0);
            ps.setBytes(6, m.payload());
            ps.setLong(7, now);
        });
    }

    CompletableFuture<Void> deleteMessage(String sessionKey, long seq) {
        return writer.submitUpdate("DELETE FROM session_message WHERE session_key = ? AND seq = ?", ps -> {
            ps.setString(1, sessionKey);
            ps.setLong(2, seq);
        });
    }

    /** One row of the retained index: {@code inline} is the payload when it is at most the inline size, else null. */
    interface RetainedRow {
        void accept(long productId, String topic, int qos, int size, byte[] inline);
    }

    /** One queued message without its payload or topic (a stub). */
    interface MessageRow {
        void accept(String sessionKey, long seq, int qos, int size, long createdAt);
    }

    /**
     * Streams the retained index to {@code rows}: payloads only up to {@code inlineBytes} (SQLite's length() of a
     * blob column reads no overflow page), so a start-up reads no large payload and holds no list of them.
     */
    void loadRetainedIndex(int inlineBytes, RetainedRow rows) {
        db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT product_id, topic, qos, length(payload), "
                    + "CASE WHEN length(payload) <= ? THEN payload END FROM retained_message")) {
                ps.setInt(1, inlineBytes);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.accept(rs.getLong(1), rs.getString(2), rs.getInt(3), rs.getInt(4), rs.getBytes(5));
                    }
                }
            }
            return null;
        });
    }

    /** The retained message of a topic as stored now, or null. */
    Message loadRetained(long productId, String topic) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT qos, payload FROM retained_message WHERE product_id = ? AND topic = ?")) {
                ps.setLong(1, productId);
                ps.setString(2, topic);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? new Message(topic, rs.getBytes(2), rs.getInt(1), true) : null;
                }
            }
        });
    }

    List<StoredSession> loadSessions() {
        return db.list("SELECT session_key, product_id, client_id, subscriptions FROM mqtt_session",
                rs -> new StoredSession(rs.getString(1), rs.getLong(2), rs.getString(3), fromJson(rs.getString(4))));
    }

    /** One persistent session as stored now, or null (cluster mode: a session that moved to this node). */
    StoredSession loadSession(String key) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT session_key, product_id, client_id, subscriptions FROM mqtt_session WHERE session_key = ?")) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? new StoredSession(rs.getString(1), rs.getLong(2), rs.getString(3), fromJson(rs.getString(4)))
                            : null;
                }
            }
        });
    }

    /** The owed messages of one session as stubs, in the order they were queued. */
    void loadMessageStubs(String key, MessageRow rows) {
        db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT session_key, seq, qos, length(payload), created_at "
                    + "FROM session_message WHERE session_key = ? ORDER BY seq")) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.accept(rs.getString(1), rs.getLong(2), rs.getInt(3), rs.getInt(4), rs.getLong(5));
                    }
                }
            }
            return null;
        });
    }

    /** Completes once every write queued before it is committed. */
    CompletableFuture<Void> flush() {
        return writer.submit(c -> { });
    }

    /**
     * Streams the owed messages as stubs (no topic, no payload), each session's in the order they were queued, after
     * deleting those of sessions that no longer exist.
     */
    void loadMessageStubs(MessageRow rows) {
        db.withConnection(c -> {
            Database.update(c, "DELETE FROM session_message WHERE session_key NOT IN (SELECT session_key FROM mqtt_session)",
                    ps -> {});
            // The primary key's order: no sort over the whole table.
            try (PreparedStatement ps = c.prepareStatement("SELECT session_key, seq, qos, length(payload), created_at "
                    + "FROM session_message ORDER BY session_key, seq");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.accept(rs.getString(1), rs.getLong(2), rs.getInt(3), rs.getInt(4), rs.getLong(5));
                }
            }
            return null;
        });
    }

    /** Deletes a session's rows up to {@code seq}: what gave way to the limits while restoring. */
    void deleteMessagesUpTo(Map<String, Long> upTo) {
        if (upTo.isEmpty()) {
            return;
        }
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM session_message WHERE session_key = ? AND seq <= ?")) {
                for (Map.Entry<String, Long> e : upTo.entrySet()) {
                    ps.setString(1, e.getKey());
                    ps.setLong(2, e.getValue());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    /** The owed messages of a session with these sequence numbers, as stored now (an absent one is gone). */
    Map<Long, Message> loadMessages(String sessionKey, List<Long> seqs) {
        return db.withConnection(c -> {
            Map<Long, Message> out = new HashMap<>();
            // A few statements for a window, not one per message: on a database server each is a round trip.
            for (int from = 0; from < seqs.size(); from += LOAD_CHUNK) {
                List<Long> chunk = seqs.subList(from, Math.min(seqs.size(), from + LOAD_CHUNK));
                try (PreparedStatement ps = c.prepareStatement("SELECT seq, topic, qos, retain, payload FROM session_message "
                        + "WHERE session_key = ? AND seq IN (" + "?,".repeat(chunk.size() - 1) + "?)")) {
                    ps.setString(1, sessionKey);
                    for (int i = 0; i < chunk.size(); i++) {
                        ps.setLong(i + 2, chunk.get(i));
                    }
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            out.put(rs.getLong(1), new Message(rs.getString(2), rs.getBytes(5), rs.getInt(3), rs.getInt(4) != 0));
                        }
                    }
                }
            }
            return out;
        });
    }

    private static String toJson(Map<String, Integer> subscriptions) {
        try {
            return JSON.writeValueAsString(subscriptions);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static Map<String, Integer> fromJson(String json) {
        try {
            return JSON.readValue(json, new TypeReference<LinkedHashMap<String, Integer>>() {});
        } catch (JsonProcessingException e) {
            return Map.of();
        }
    }
}
