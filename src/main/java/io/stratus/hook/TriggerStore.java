package io.stratus.hook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.store.Database;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** SQL for the {@code hook_trigger} table. */
final class TriggerStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String COLUMNS =
            "id, product_id, title, ds_id, dev_ids, url, type, threshold, lolmt, uplmt, create_time, update_time";

    private final Database db;

    TriggerStore(Database db) {
        this.db = db;
    }

    List<Trigger> loadAll() {
        return db.withConnection(c -> {
            List<Trigger> out = new ArrayList<>();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT " + COLUMNS + " FROM hook_trigger")) {
                while (rs.next()) {
                    Trigger t = trigger(rs);
                    if (t != null) {
                        out.add(t);
                    }
                }
            }
            return out;
        });
    }

    /** The trigger {@code id}, or null when it is not stored. */
    Trigger load(long id) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM hook_trigger WHERE id = ?")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? trigger(rs) : null;
                }
            }
        });
    }

    /** The row at {@code rs}, or null for a type this version does not know. */
    private static Trigger trigger(ResultSet rs) throws SQLException {
        TriggerType type = TriggerType.parse(rs.getString(7)).orElse(null);
        return type == null ? null : new Trigger(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                devIds(rs.getString(5)), rs.getString(6), type, rs.getDouble(8), rs.getDouble(9), rs.getDouble(10),
                rs.getLong(11), rs.getLong(12));
    }

    /** Inserts a draft; returns its id. */
    long insert(Trigger t) {
        return db.withConnection(c -> db.insertReturningId(c, "INSERT INTO hook_trigger (product_id, title, ds_id, dev_ids, "
                + "url, type, threshold, lolmt, uplmt, create_time, update_time) VALUES (?,?,?,?,?,?,?,?,?,?,?)", ps -> {
                    ps.setLong(1, t.productId());
                    bindDefinition(ps, 2, t);
                    ps.setLong(10, t.createTime());
                    ps.setLong(11, t.updateTime());
                }));
    }

    void update(Trigger t) {
        db.update("UPDATE hook_trigger SET title = ?, ds_id = ?, dev_ids = ?, url = ?, "
                + "type = ?, threshold = ?, lolmt = ?, uplmt = ?, update_time = ? WHERE id = ?", ps -> {
            bindDefinition(ps, 1, t);
            ps.setLong(9, t.updateTime());
            ps.setLong(10, t.id());
        });
    }

    void delete(long id) {
        db.update("DELETE FROM hook_trigger WHERE id = ?", ps -> ps.setLong(1, id));
    }

    /** title, ds_id, dev_ids, url, type, threshold, lolmt, uplmt from parameter {@code first} on. */
    private static void bindDefinition(PreparedStatement ps, int first, Trigger t) throws SQLException {
        ps.setString(first, t.title());
        ps.setString(first + 1, t.dsId());
        ps.setString(first + 2, t.devIds().isEmpty() ? null : json(t.sortedDevIds()));
        ps.setString(first + 3, t.url());
        ps.setString(first + 4, t.type().wire());
        ps.setDouble(first + 5, t.threshold());
        ps.setDouble(first + 6, t.lolmt());
        ps.setDouble(first + 7, t.uplmt());
    }

    private static String json(List<Long> ids) {
        try {
            return JSON.writeValueAsString(ids);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Set<Long> devIds(String json) {
        if (json == null || json.isEmpty()) {
            return Set.of();
        }
        try {
            return Set.copyOf(JSON.readValue(json, new TypeReference<List<Long>>() {}));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("bad dev_ids in hook_trigger: " + json, e);
        }
    }
}
