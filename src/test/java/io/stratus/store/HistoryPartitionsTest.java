package io.stratus.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL's history in monthly partitions: made ahead, taking their rows out of the default partition, dropped whole
 * by retention; nothing at all on SQLite. On a real PostgreSQL database of its own, whatever store the suite runs on.
 */
class HistoryPartitionsTest {
    private static final long MAY_10_2030 = Instant.parse("2030-05-10T12:00:00Z").toEpochMilli();
    private static final long JUNE_15_2030 = Instant.parse("2030-06-15T00:00:00Z").toEpochMilli();
    private static final long JULY_1_2030 = Instant.parse("2030-07-01T00:00:00Z").toEpochMilli();

    private Database db;
    private HistoryPartitions partitions;

    @BeforeEach
    void open() {
        db = Database.openPostgres(PostgresTarget.parse(PostgresServer.get().createDatabase(), null));
        partitions = HistoryPartitions.start(db);
    }

    @AfterEach
    void close() {
        partitions.close();
        db.close();
    }

    @Test
    void the_months_ahead_are_made_once_and_take_their_rows_out_of_the_default_partition() {
        insert(JUNE_15_2030, "\"early\""); // no partition for June 2030 yet: the default one takes it

        assertThat(partitions.ensureAhead(MAY_10_2030)).isEqualTo(HistoryPartitions.MONTHS_AHEAD + 1);
        assertThat(partitions.ensureAhead(MAY_10_2030)).as("made once").isZero();

        assertThat(partitions.months()).extracting(HistoryPartitions.Month::name)
                .contains("datapoint_y2030m05", "datapoint_y2030m06", "datapoint_y2030m07");
        assertThat(count("datapoint_default")).as("moved out of the default partition").isZero();
        assertThat(count("datapoint_y2030m06")).isEqualTo(1);
        assertThat(count("datapoint")).as("still one point, in its month").isEqualTo(1);
        insert(JUNE_15_2030 + 1, "\"later\"");
        assertThat(count("datapoint_y2030m06")).isEqualTo(2);
    }

    @Test
    void retention_drops_the_months_that_end_before_the_cutoff_and_keeps_the_rest() {
        partitions.ensureAhead(MAY_10_2030);
        insert(MAY_10_2030, "1");
        insert(JUNE_15_2030, "2");
        insert(JULY_1_2030, "3");

        List<String> dropped = HistoryPartitions.dropBefore(db, JULY_1_2030);

        assertThat(dropped).contains("datapoint_y2030m05", "datapoint_y2030m06").doesNotContain("datapoint_y2030m07");
        assertThat(db.list("SELECT value FROM datapoint ORDER BY ts", rs -> rs.getString(1))).containsExactly("3");
    }

    @Test
    void on_sqlite_there_is_one_table_and_nothing_to_do(@TempDir Path dir) {
        try (Database sqlite = Database.openSqlite(dir, "normal"); HistoryPartitions none = HistoryPartitions.start(sqlite)) {
            assertThat(none.ensureAhead(MAY_10_2030)).isZero();
            assertThat(none.months()).isEmpty();
            assertThat(HistoryPartitions.dropBefore(sqlite, JULY_1_2030)).isEmpty();
        }
    }

    private void insert(long ts, String valueJson) {
        db.update("INSERT INTO datapoint (device_id, stream, ts, value) VALUES (?, ?, ?, ?)", ps -> {
            ps.setLong(1, 500000001L);
            ps.setString(2, "temp");
            ps.setLong(3, ts);
            ps.setString(4, valueJson);
        });
    }

    private long count(String table) {
        return db.list("SELECT count(*) FROM " + table, rs -> rs.getLong(1)).get(0);
    }
}
