package io.stratus.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BulkReplace} on each store the tests run on ({@link TestStore}): new rows are stored, a taken key is replaced
 * (on PostgreSQL the COPY falls back to the upsert without losing the batch's other writes), and any text survives.
 */
class BulkReplaceTest {
    @TempDir
    Path dir;
    private Database db;
    private BatchWriter writer;
    private BulkReplace bulk;

    private record Row(long k1, String k2, String a) {}

    @BeforeEach
    void open() {
        db = TestStore.open(dir);
        db.withConnection(c -> c.createStatement().executeUpdate(
                "CREATE TABLE t (k1 BIGINT NOT NULL, k2 TEXT NOT NULL, a TEXT, PRIMARY KEY (k1, k2))"));
        writer = new BatchWriter(db, "test", 16, 16);
        bulk = new BulkReplace(db.dialect(), "t", List.of("k1", "k2"), List.of("a"));
    }

    @AfterEach
    void close() {
        writer.close();
        db.close();
    }

    @Test
    void stores_every_row_of_a_call() throws Exception {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            rows.add(new Row(i % 7, "s" + i, String.valueOf(i * 0.5)));
        }

        write(rows);

        assertThat(db.list("SELECT count(*), sum(k1) FROM t", rs -> rs.getLong(1) + "|" + rs.getLong(2)))
                .containsExactly("5000|" + rows.stream().mapToLong(Row::k1).sum());
    }

    @Test
    void a_taken_key_is_replaced_and_the_rest_of_the_transaction_is_kept() throws Exception {
        write(List.of(new Row(1, "x", "old"), new Row(1, "y", "kept")));

        writer.submitBatched(b -> {
            Database.update(b.connection(), "INSERT INTO t (k1, k2, a) VALUES (9, 'before', 'same transaction')", ps -> { });
            bulk.write(b, List.of(new Row(1, "x", "new"), new Row(2, "x", "added")), BulkReplaceTest::values);
        }).get();

        assertThat(db.list("SELECT k1, k2, a FROM t ORDER BY k1, k2", rs -> rs.getLong(1) + "|" + rs.getString(2) + "|" + rs.getString(3)))
                .containsExactly("1|x|new", "1|y|kept", "2|x|added", "9|before|same transaction");
    }

    @Test
    void text_with_separators_escapes_quotes_and_any_script_is_stored_as_given() throws Exception {
        List<String> texts = List.of("tab\there", "new\nline", "cr\rlf", "back\\slash", "\\N", "\"quoted\"", "{\"a\":\"b\\tc\"}",
                "温度", "😀", "", "comma,semi;pipe|");
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            rows.add(new Row(i, texts.get(i), texts.get(i)));
        }

        write(rows);

        assertThat(db.list("SELECT k2, a FROM t ORDER BY k1", rs -> List.of(rs.getString(1), rs.getString(2))))
                .containsExactlyElementsOf(texts.stream().map(t -> List.of(t, t)).toList());
    }

    @Test
    void copy_text_is_tab_separated_with_backslash_escapes() {
        assertThat(BulkReplace.copyText(3, List.of(new Row(-4, "a\tb", "c\\d\ne")), BulkReplaceTest::values))
                .isEqualTo("-4\ta\\tb\tc\\\\d\\ne\n");
    }

    private void write(List<Row> rows) throws Exception {
        writer.submitBatched(b -> bulk.write(b, rows, BulkReplaceTest::values)).get();
    }

    private static void values(Row row, BulkReplace.Row values) {
        values.add(row.k1()).add(row.k2()).add(row.a());
    }
}
