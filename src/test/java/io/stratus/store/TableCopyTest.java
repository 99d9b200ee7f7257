package io.stratus.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One table copied from SQLite to PostgreSQL: each value bound as its PostgreSQL column's type (integer flags to
 * boolean, text to jsonb, integers to smallint), NULL kept NULL, ids kept in an identity column that generates always.
 */
class TableCopyTest {
    @TempDir
    Path dir;

    private Connection sqlite;
    private Connection postgres;

    @BeforeEach
    void open() throws SQLException {
        sqlite = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("source.db"));
        PostgresTarget target = PostgresTarget.parse(PostgresServer.get().createDatabase(), null);
        postgres = DriverManager.getConnection(target.jdbcUrl(), target.user(), target.password());
        execute(sqlite, "CREATE TABLE sample (id INTEGER PRIMARY KEY AUTOINCREMENT, flag INTEGER, small INTEGER, "
                + "ratio REAL, doc TEXT, data BLOB, note TEXT, amount NUMERIC)");
        execute(postgres, "CREATE TABLE sample (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, flag BOOLEAN, "
                + "small SMALLINT, ratio DOUBLE PRECISION, doc JSONB, data BYTEA, note TEXT, amount NUMERIC, extra TEXT)");
    }

    @AfterEach
    void close() throws SQLException {
        sqlite.close();
        postgres.close();
    }

    @Test
    void each_value_arrives_as_the_type_of_its_postgresql_column_and_null_stays_null() throws SQLException {
        execute(sqlite, "INSERT INTO sample VALUES (7, 1, -3, 2.5, '{\"b\": 1, \"a\": [true]}', x'00ff10', 'héllo', 12.25)");
        execute(sqlite, "INSERT INTO sample VALUES (9, 0, NULL, NULL, NULL, NULL, NULL, NULL)");

        TableCopy copy = tableCopy("sample");
        postgres.setAutoCommit(false);
        long rows = copy.copy(sqlite, postgres, new MigrationProgress(line -> {}));
        postgres.commit();

        assertThat(rows).isEqualTo(2);
        assertThat(copy.sequenceColumns()).containsExactly("id");
        List<List<Object>> copied = new ArrayList<>();
        try (Statement st = postgres.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, flag, small, ratio, doc::text, data, note, amount, extra FROM sample ORDER BY id")) {
            while (rs.next()) {
                List<Object> row = new ArrayList<>();
                for (int i = 1; i <= 9; i++) {
                    Object v = rs.getObject(i);
                    row.add(v instanceof byte[] b ? HexFormat.of().formatHex(b) : v);
                }
                copied.add(row);
            }
        }
        assertThat(copied).containsExactly(
                Arrays.asList(7L, true, -3, 2.5, "{\"a\": [true], \"b\": 1}", "00ff10", "héllo", new BigDecimal("12.25"), null),
                Arrays.asList(9L, false, null, null, null, null, null, null, null));
    }

    @Test
    void a_column_postgresql_does_not_have_is_named() throws SQLException {
        execute(postgres, "ALTER TABLE sample DROP COLUMN note");

        assertThatThrownBy(() -> tableCopy("sample")).isInstanceOf(StoreException.class)
                .hasMessageContaining("sample.note").hasMessageContaining("missing from the PostgreSQL schema");
    }

    private TableCopy tableCopy(String table) throws SQLException {
        List<String> columns = new ArrayList<>();
        try (Statement st = sqlite.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM " + table + " LIMIT 0")) {
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                columns.add(rs.getMetaData().getColumnName(i));
            }
        }
        Map<String, TableCopy.TargetColumn> target = StoreMigration.targetColumns(postgres.getMetaData(), postgres.getSchema(), table);
        return new TableCopy(table, columns, target);
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
