package io.stratus.store;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the writes of one group commit share: prepared statements, state, and work at the batch's end. */
class BatchWriterBatchTest {
    @TempDir
    Path dir;
    private Database db;
    private BatchWriter writer;

    @BeforeEach
    void open() {
        db = TestStore.open(dir);
        db.withConnection(c -> c.createStatement().executeUpdate("CREATE TABLE t (x INTEGER NOT NULL)"));
        writer = new BatchWriter(db, "test", 1000, 100);
    }

    @AfterEach
    void close() {
        writer.close();
        db.close();
    }

    /** Holds the writer in a batch of its own until the returned latch is released, so what follows queues up. */
    private CountDownLatch holdWriter() throws InterruptedException {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        writer.submit(c -> {
            inside.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        inside.await();
        return release;
    }

    @Test
    void writes_of_one_batch_share_a_statement_that_is_closed_after_the_commit() throws Exception {
        CountDownLatch release = holdWriter();
        Set<PreparedStatement> seen = ConcurrentHashMap.newKeySet();
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            int x = i;
            done.add(writer.submitBatched(b -> {
                PreparedStatement ps = b.statement("INSERT INTO t (x) VALUES (?)");
                seen.add(ps);
                ps.setInt(1, x);
                ps.executeUpdate();
            }));
        }
        release.countDown();
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(5, SECONDS);
        assertThat(seen).hasSize(1);
        assertThat(seen.iterator().next().isClosed()).isTrue();
        assertThat(count()).isEqualTo(10);
    }

    @Test
    void end_work_runs_once_per_key_after_every_write_of_the_batch() throws Exception {
        CountDownLatch release = holdWriter();
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        Object key = new Object();
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int x = i;
            done.add(writer.submitBatched(b -> {
                List<Integer> pending = b.shared(key, ArrayList::new);
                pending.add(x);
                events.add("write " + x);
                b.atEnd(key, end -> {
                    List<Integer> all = end.shared(key, ArrayList::new);
                    events.add("end " + all);
                    PreparedStatement ps = end.statement("INSERT INTO t (x) VALUES (?)");
                    for (int v : all) {
                        ps.setInt(1, v);
                        ps.addBatch();
                    }
                    ps.executeBatch();
                });
            }));
        }
        release.countDown();
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(5, SECONDS);
        assertThat(events).containsExactly("write 0", "write 1", "write 2", "end [0, 1, 2]");
        assertThat(count()).isEqualTo(3);
    }

    @Test
    void an_error_in_a_write_fails_its_batch_and_the_writer_goes_on_with_the_next() throws Exception {
        CountDownLatch release = holdWriter();
        CompletableFuture<Void> neighbour = writer.submit(c -> c.createStatement().executeUpdate("INSERT INTO t (x) VALUES (1)"));
        CompletableFuture<Void> failing = writer.submit(c -> {
            throw new OutOfMemoryError("simulated: Java heap space");
        });
        release.countDown();

        await().atMost(5, SECONDS).until(failing::isDone);
        assertThat(failing).isCompletedExceptionally();
        assertThat(neighbour).as("its batch was rolled back: no write may wait forever").isCompletedExceptionally();
        assertThat(count()).isZero();

        writer.submit(c -> c.createStatement().executeUpdate("INSERT INTO t (x) VALUES (2)")).get(5, SECONDS);
        assertThat(count()).isEqualTo(1);
        assertThat(writer.worker().failures()).isEqualTo(1);
        assertThat(writer.worker().problem()).isNull();
    }

    @Test
    void a_failing_write_is_retried_alone_and_its_neighbours_commit_with_their_end_work() throws Exception {
        CountDownLatch release = holdWriter();
        Object key = new Object();
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int x = i;
            done.add(writer.submitBatched(b -> {
                if (x == 1) {
                    throw new SQLException("bad write");
                }
                b.<List<Integer>>shared(key, ArrayList::new).add(x);
                b.atEnd(key, end -> {
                    PreparedStatement ps = end.statement("INSERT INTO t (x) VALUES (?)");
                    for (int v : end.<List<Integer>>shared(key, ArrayList::new)) {
                        ps.setInt(1, v);
                        ps.executeUpdate();
                    }
                });
            }));
        }
        release.countDown();
        await().atMost(5, SECONDS).until(() -> done.stream().allMatch(CompletableFuture::isDone));
        assertThat(done.get(0)).isCompleted();
        assertThat(done.get(1)).isCompletedExceptionally();
        assertThat(done.get(2)).isCompleted();
        assertThat(count()).isEqualTo(2);
    }

    private int count() {
        return db.withConnection(c -> {
            try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM t")) {
                rs.next();
                return rs.getInt(1);
            }
        });
    }
}
