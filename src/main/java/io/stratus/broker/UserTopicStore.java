package io.stratus.broker;

import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** SQL for the user topics of {@link UserTopics} (table {@code mqtt_topic}); writes go through the state writer. */
final class UserTopicStore {
    /** One stored topic. */
    interface TopicRow {
        void accept(long productId, String name, long createTime);
    }

    private final Database db;
    private final BatchWriter writer;
    private final String insert;

    UserTopicStore(Database db, BatchWriter writer) {
        this.db = db;
        this.writer = writer;
        this.insert = db.dialect().insertIfAbsent("mqtt_topic", List.of("product_id", "name"), List.of("create_time"));
    }

    /** Streams every stored topic to {@code rows}, product by product, each product's oldest first. */
    void load(TopicRow rows) {
        db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT product_id, name, create_time FROM mqtt_topic ORDER BY product_id, create_time, name");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.accept(rs.getLong(1), rs.getString(2), rs.getLong(3));
                }
            }
            return null;
        });
    }

    /** Stores a topic unless the product has it already. */
    CompletableFuture<Void> insert(long productId, String name, long createTime) {
        return writer.submitUpdate(insert, ps -> {
            ps.setLong(1, productId);
            ps.setString(2, name);
            ps.setLong(3, createTime);
        });
    }

    CompletableFuture<Void> delete(long productId, String name) {
        return writer.submitUpdate("DELETE FROM mqtt_topic WHERE product_id = ? AND name = ?", ps -> {
            ps.setLong(1, productId);
            ps.setString(2, name);
        });
    }

    /** The rows of a deleted product, in its deletion's transaction. */
    static void deleteProduct(Connection c, long productId) throws SQLException {
        Database.update(c, "DELETE FROM mqtt_topic WHERE product_id = ?", ps -> ps.setLong(1, productId));
    }
}
