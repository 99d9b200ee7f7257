package io.stratus.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The statements {@link Dialect} builds, run on a real database (each store the tests run on, {@link TestStore}): what
 * each does to a row that exists and to one that does not. Every database must pass the same table.
 */
class DialectTest {
    @TempDir
    Path dir;
    private Database db;
    private Dialect dialect;

    @BeforeEach
    void open() {
        db = TestStore.open(dir);
        dialect = db.dialect();
        db.withConnection(c -> c.createStatement().executeUpdate(
                "CREATE TABLE t (k1 INTEGER NOT NULL, k2 TEXT NOT NULL, a TEXT, b TEXT DEFAULT 'kept', PRIMARY KEY (k1, k2))"));
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void upsert_inserts_a_new_row_and_updates_only_the_named_columns_of_an_existing_one() {
        String sql = dialect.upsert("t", List.of("k1", "k2"), List.of("a"));

        db.update(sql, ps -> bind(ps, 1, "x", "first"));
        db.update("UPDATE t SET b = 'own'", ps -> { });
        db.update(sql, ps -> bind(ps, 1, "x", "second"));
        db.update(sql, ps -> bind(ps, 2, "x", "other"));

        assertThat(rows()).containsExactly("1|x|second|own", "2|x|other|kept");
    }

    @Test
    void replace_writes_the_whole_row_new_or_existing() {
        String sql = dialect.replace("t", List.of("k1", "k2"), List.of("a", "b"));

        db.update(sql, ps -> bind(ps, 1, "x", "first", "b1"));
        db.update(sql, ps -> bind(ps, 1, "x", "second", "b2"));
        db.update(sql, ps -> bind(ps, 1, "y", "third", "b3"));

        assertThat(rows()).containsExactly("1|x|second|b2", "1|y|third|b3");
    }

    @Test
    void insert_if_absent_leaves_an_existing_row_as_it_is() {
        String sql = dialect.insertIfAbsent("t", List.of("k1", "k2"), List.of("a"));

        db.update(sql, ps -> bind(ps, 1, "x", "first"));
        db.update(sql, ps -> bind(ps, 1, "x", "second"));

        assertThat(rows()).containsExactly("1|x|first|kept");
    }

    @Test
    void insert_returning_id_returns_the_ids_the_migrations_start_at() {
        String product = "INSERT INTO product (title, register_code, create_time) VALUES (?, 'r', 0)";
        String trigger = "INSERT INTO hook_trigger (product_id, ds_id, url, type, create_time, update_time) "
                + "VALUES (?, 's', 'http://h', '>', 0, 0)";

        long first = db.withConnection(c -> db.insertReturningId(c, product, ps -> ps.setString(1, "a")));
        long second = db.withConnection(c -> db.insertReturningId(c, product, ps -> ps.setString(1, "b")));
        long device = db.withConnection(c -> db.insertReturningId(c, "INSERT INTO device (product_id, title, auth_info, "
                + "create_time) VALUES (?, 'd', 'sn', 0)", ps -> ps.setLong(1, first)));
        long hook = db.withConnection(c -> db.insertReturningId(c, trigger, ps -> ps.setLong(1, first)));

        // OneNET-like ids (V1, V5): six-digit products and triggers, devices from 500000001.
        assertThat(List.of(first, second, device, hook)).containsExactly(100_001L, 100_002L, 500_000_001L, 100_001L);
        assertThat(db.list("SELECT title FROM product WHERE id = " + second, rs -> rs.getString(1))).containsExactly("b");
    }

    @Test
    void every_dialect_names_its_migrations() {
        for (Dialect d : Dialect.values()) {
            assertThat(d.migrations()).startsWith("classpath:db/migration/");
        }
    }

    private static void bind(java.sql.PreparedStatement ps, long k1, String k2, String... values) throws java.sql.SQLException {
        ps.setLong(1, k1);
        ps.setString(2, k2);
        for (int i = 0; i < values.length; i++) {
            ps.setString(3 + i, values[i]);
        }
    }

    private List<String> rows() {
        return db.list("SELECT k1, k2, a, b FROM t ORDER BY k1, k2",
                rs -> rs.getLong(1) + "|" + rs.getString(2) + "|" + rs.getString(3) + "|" + rs.getString(4));
    }
}
