package io.stratus.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stratus.Config;
import io.stratus.monitor.Worker;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writes of one key stay in order on one writer; the writers of a group share the work and all commit. */
class BatchWritersTest {
    @TempDir
    Path dir;

    @Test
    void a_key_always_goes_to_the_same_writer_and_keys_spread_over_all_of_them() {
        try (Database db = TestStore.open(dir); BatchWriters writers = new BatchWriters(db, "points", 3, 300, 10)) {
            assertThat(writers.workers()).extracting(Worker::name).containsExactly("points-0-writer", "points-1-writer",
                    "points-2-writer");
            for (long key = -5; key < 100; key++) {
                assertThat(writers.forKey(key)).isSameAs(writers.forKey(key + 3 * 1_000_003L));
            }
            assertThat(List.of(writers.forKey(500000001L), writers.forKey(500000002L), writers.forKey(500000003L)))
                    .doesNotHaveDuplicates();
        }
    }

    @Test
    void one_writer_keeps_the_plain_name() {
        try (Database db = TestStore.open(dir); BatchWriters writers = new BatchWriters(db, "points", 1, 300, 10)) {
            assertThat(writers.workers()).extracting(Worker::name).containsExactly("points-writer");
        }
    }

    @Test
    void every_write_commits_and_the_writes_of_a_key_keep_their_order() throws Exception {
        try (Database db = TestStore.open(dir)) {
            String id = db.dialect() == Dialect.SQLITE ? "INTEGER PRIMARY KEY" : "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY";
            db.withConnection(c -> c.createStatement().executeUpdate("CREATE TABLE log (id " + id
                    + ", k BIGINT NOT NULL, seq INTEGER NOT NULL)"));
            List<CompletableFuture<Void>> done = new ArrayList<>();
            try (BatchWriters writers = new BatchWriters(db, "points", 2, 10_000, 50)) {
                for (int seq = 0; seq < 2000; seq++) {
                    long key = seq % 5;
                    int s = seq;
                    done.add(writers.forKey(key).submitUpdate("INSERT INTO log (k, seq) VALUES (?, ?)", ps -> {
                        ps.setLong(1, key);
                        ps.setInt(2, s);
                    }));
                }
            }
            CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get();
            // The ids are handed out as the rows are inserted: per key, in the order the writes were submitted.
            for (long key = 0; key < 5; key++) {
                List<Integer> seqs = db.list("SELECT seq FROM log WHERE k = " + key + " ORDER BY id", rs -> rs.getInt(1));
                assertThat(seqs).hasSize(400).isSorted();
            }
        }
    }

    @Test
    void the_setting_is_bounded() {
        assertThat(Config.of(Map.of()).store().datapointWriters()).isEqualTo(2);
        assertThat(Config.of(Map.of("store.datapoint-writers", "4")).store().datapointWriters()).isEqualTo(4);
        assertThatThrownBy(() -> Config.of(Map.of("store.datapoint-writers", "0"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Config.of(Map.of("store.datapoint-writers", "9")))
                .hasMessageContaining("store.datapoint-writers must be at most 8");
    }
}
