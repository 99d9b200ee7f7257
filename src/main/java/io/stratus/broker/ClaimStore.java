package io.stratus.broker;

import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** SQL for the {@code client_owner} table: cluster mode's claims of client ids ({@link Takeovers}). */
final class ClaimStore {
    /** A client id of a product, to claim, with the will of its connection (null for none). */
    record Key(long productId, String clientId, Message will) {
        Key(long productId, String clientId) {
            this(productId, clientId, null);
        }
    }

    /** A client id taken from a dead node, with the will its connection there had (null for none). */
    record Adopted(long productId, String clientId, Message will) {}

    /** A claim as written: the owner before it (empty for none) and the claim's epoch. */
    record Written(String previousOwner, long epoch) {}

    private final Database db;
    private final BatchWriter writer;

    ClaimStore(Database db, BatchWriter writer) {
        this.db = db;
        this.writer = writer;
    }

    /** Claims each key for {@code owner} in one transaction, in the order given (callers sort them: no deadlocks). */
    List<Written> claim(List<Key> keys, String owner) {
        return db.inTransaction(c -> write(c, keys, owner));
    }

    private static List<Written> write(Connection c, List<Key> keys, String owner) throws SQLException {
        List<Written> written = new ArrayList<>(keys.size());
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO client_owner (product_id, client_id, owner, epoch) "
                + "VALUES (?, ?, '', 0) ON CONFLICT (product_id, client_id) DO NOTHING");
             PreparedStatement select = c.prepareStatement(
                     "SELECT owner, nextval('client_epoch') FROM client_owner WHERE product_id = ? AND client_id = ? FOR UPDATE");
             PreparedStatement update = c.prepareStatement(
                     "UPDATE client_owner SET owner = ?, epoch = ?, will_topic = ?, will_payload = ?, will_qos = ?, "
                             + "will_retain = ? WHERE product_id = ? AND client_id = ?")) {
            for (Key key : keys) {
                String previous = null;
                long epoch = 0;
                // The clean session's row of a connection that just ended elsewhere may go between the two statements.
                while (previous == null) {
                    insert.setLong(1, key.productId());
                    insert.setString(2, key.clientId());
                    insert.executeUpdate();
                    select.setLong(1, key.productId());
                    select.setString(2, key.clientId());
                    try (ResultSet rs = select.executeQuery()) {
                        if (rs.next()) {
                            previous = rs.getString(1);
                            epoch = rs.getLong(2); // from one sequence: a client id's epochs only grow, whatever rows went
                        }
                    }
                }
                update.setString(1, owner);
                update.setLong(2, epoch);
                Message will = key.will();
                update.setString(3, will == null ? null : will.topic());
                update.setBytes(4, will == null ? null : will.payload());
                update.setObject(5, will == null ? null : will.qos(), Types.INTEGER);
                update.setObject(6, will == null ? null : will.retain() ? 1 : 0, Types.INTEGER);
                update.setLong(7, key.productId());
                update.setString(8, key.clientId());
                update.executeUpdate();
                written.add(new Written(previous, epoch));
            }
        }
        return written;
    }

    /** The incarnation holding a client id's latest claim; null when none does. */
    String owner(long productId, String clientId) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT owner FROM client_owner WHERE product_id = ? AND client_id = ?")) {
                ps.setLong(1, productId);
                ps.setString(2, clientId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
    }

    /**
     * Moves every claim of {@code from} to {@code to} (a survivor adopting a dead node's client ids, epoch + 1) and
     * returns their keys; a concurrent adopter finds none left.
     */
    List<Adopted> adopt(String from, String to) {
        return db.inTransaction(c -> {
            List<Adopted> adopted = new ArrayList<>();
            // The wills as they were (RETURNING gives the new row), cleared in the same statement: published once.
            try (PreparedStatement ps = c.prepareStatement("WITH old AS (SELECT product_id, client_id, will_topic, "
                    + "will_payload, will_qos, will_retain FROM client_owner WHERE owner = ? FOR UPDATE) "
                    + "UPDATE client_owner o SET owner = ?, epoch = nextval('client_epoch'), will_topic = NULL, will_payload = NULL, "
                    + "will_qos = NULL, will_retain = NULL FROM old WHERE o.product_id = old.product_id "
                    + "AND o.client_id = old.client_id RETURNING old.product_id, old.client_id, old.will_topic, "
                    + "old.will_payload, old.will_qos, old.will_retain")) {
                ps.setString(1, from);
                ps.setString(2, to);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Message will = rs.getString(3) == null ? null
                                : new Message(rs.getString(3), rs.getBytes(4), rs.getInt(5), rs.getInt(6) != 0);
                        adopted.add(new Adopted(rs.getLong(1), rs.getString(2), will));
                    }
                }
            }
            return adopted;
        });
    }

    /** The connection of a claim ended on its node, which published or discarded its will: it is no one's to publish. */
    void clearWill(long productId, String clientId, long epoch) {
        writer.submitUpdate("UPDATE client_owner SET will_topic = NULL, will_payload = NULL, will_qos = NULL, "
                + "will_retain = NULL WHERE product_id = ? AND client_id = ? AND epoch = ?", ps -> {
            ps.setLong(1, productId);
            ps.setString(2, clientId);
            ps.setLong(3, epoch);
        });
    }

    /** A node that starts takes back the claims of its earlier starts (by name) that no survivor adopted. */
    List<Key> reclaim(String node, String to) {
        return moveClaims("substr(owner, 1, " + (node.length() + 1) + ") = ? AND owner <> ''", node + "/", to);
    }

    private List<Key> moveClaims(String condition, String value, String to) { // keeps the wills: the node is back
        return db.inTransaction(c -> {
            List<Key> keys = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("UPDATE client_owner SET owner = ?, epoch = nextval('client_epoch') WHERE "
                    + condition + " RETURNING product_id, client_id")) {
                ps.setString(1, to);
                ps.setString(2, value);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        keys.add(new Key(rs.getLong(1), rs.getString(2)));
                    }
                }
            }
            return keys;
        });
    }

    /** Completes once every write queued on the state writer before it is committed. */
    CompletableFuture<Void> flush() {
        return writer.submit(c -> { });
    }

    /** Deletes a claim unless a newer one replaced it. */
    void release(long productId, String clientId, long epoch) {
        writer.submitUpdate("DELETE FROM client_owner WHERE product_id = ? AND client_id = ? AND epoch = ?", ps -> {
            ps.setLong(1, productId);
            ps.setString(2, clientId);
            ps.setLong(3, epoch);
        });
    }
}
