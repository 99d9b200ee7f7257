package io.stratus.hook;

import io.stratus.store.Database;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/** SQL for the {@code push_target} table. */
final class PushStore {
    private static final String SELECT = "SELECT product_id, url, token, enabled, batch, create_time, update_time FROM push_target";

    private final Database db;

    PushStore(Database db) {
        this.db = db;
    }

    List<PushTarget> loadAll() {
        return db.list(SELECT, PushStore::target);
    }

    /** The target of {@code productId}, or null when it has none. */
    PushTarget load(long productId) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE product_id = ?")) {
                ps.setLong(1, productId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? target(rs) : null;
                }
            }
        });
    }

    private static PushTarget target(ResultSet rs) throws SQLException {
        return new PushTarget(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getBoolean(4), rs.getBoolean(5),
                rs.getLong(6), rs.getLong(7));
    }

    /**
     * Stores the product's target, replacing its other values but keeping the stored create_time (so not {@link
     * io.stratus.store.Dialect#upsert}, which replaces every value; this {@code ON CONFLICT} form reads the same in
     * SQLite and PostgreSQL).
     */
    void put(PushTarget t) {
        db.update("INSERT INTO push_target (product_id, url, token, enabled, batch, create_time, update_time) "
                + "VALUES (?,?,?,?,?,?,?) ON CONFLICT (product_id) DO UPDATE SET url = excluded.url, token = excluded.token, "
                + "enabled = excluded.enabled, batch = excluded.batch, update_time = excluded.update_time", ps -> {
            ps.setLong(1, t.productId());
            ps.setString(2, t.url());
            ps.setString(3, t.token());
            // 0/1 integers, as SQLite's driver writes a boolean: PostgreSQL refuses a boolean into an integer column.
            ps.setInt(4, t.enabled() ? 1 : 0);
            ps.setInt(5, t.batch() ? 1 : 0);
            ps.setLong(6, t.createTime());
            ps.setLong(7, t.updateTime());
        });
    }

    void delete(long productId) {
        db.update("DELETE FROM push_target WHERE product_id = ?", ps -> ps.setLong(1, productId));
    }
}
