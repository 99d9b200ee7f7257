package io.stratus.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The queue of one session behind its window: the session's limits and its product's budget (the oldest giving way,
 * D18, docs/decisions.md), restoring at start-up, expiry at the head, and which stubs are read back.
 */
class OwedQueueTest {
    private static final long TTL = 60_000;
    /** A window of 3 messages or 100 bytes; a queue of 3 messages or 100 bytes. */
    private static final Session.Rules RULES = new Session.Rules(3, 100, 3, 100, TTL, 30_000);

    private final RecordingStorage storage = new RecordingStorage();
    private final QueueBudget budget = new QueueBudget(1_000, 100_000);

    private OwedQueue queue(QueueBudget productBudget) {
        return new OwedQueue(RULES, productBudget, storage.stats, storage.ledger);
    }

    /** Queues as the session does: room from the product's budget first. */
    private static Owed add(OwedQueue q, Owed owed) {
        assertThat(q.reserve(owed.size, true)).isTrue();
        q.add(owed);
        return owed;
    }

    private static Owed stub(long seq, int size) {
        return new Owed(seq, 1, size, 0, null, true);
    }

    @ParameterizedTest(name = "{0} + {1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            # queued sizes | one more | over session.max-queued 3 or session.max-queued-bytes 100
            ''             | 500      | false
            10             | 90       | false
            10             | 91       | true
            10 10          | 10       | false
            10 10 10       | 1        | true
            """)
    void is_over_limits_when_one_more_would_pass_them_and_something_can_give_way(String sizes, int size, boolean over) {
        OwedQueue q = queue(budget);
        long seq = 1;
        for (String s : sizes.isBlank() ? new String[0] : sizes.split(" ")) {
            add(q, stub(seq++, Integer.parseInt(s)));
        }

        assertThat(q.overLimits(size)).isEqualTo(over);
    }

    @Test
    void the_oldest_gives_way_to_the_products_budget_and_an_empty_queue_is_refused_D18() {
        QueueBudget full = new QueueBudget(2, 100_000);
        OwedQueue q = queue(full);
        Owed oldest = add(q, storage.held(1, 1, 10, 0));
        add(q, storage.held(2, 1, 10, 0));

        assertThat(q.reserve(10, true)).isTrue();
        assertThat(oldest.done).isTrue();
        assertThat(q.size()).isEqualTo(1);
        assertThat(storage.settled).containsExactly(1L);
        assertThat(queue(full).reserve(10, true)).as("nothing to give way").isFalse();
        assertThat(storage.stats.productQueueFullCount()).isEqualTo(2);
        assertThat(storage.ledger.dropped()).isEqualTo(1);
    }

    @Test
    void restore_drops_a_prefix_of_the_rows_within_the_limits_without_settling_them_one_by_one() {
        OwedQueue q = queue(budget);

        for (long seq = 1; seq <= 5; seq++) {
            q.restore(seq, 1, 10, 0);
        }

        assertThat(q.size()).isEqualTo(3);
        assertThat(q.restoreDroppedUpTo()).isEqualTo(2);
        assertThat(storage.settled).isEmpty();
        assertThat(storage.ledger.dropped()).isEqualTo(2);
        assertThat(storage.stats.productQueueFullCount()).as("not counted while restoring").isZero();
        assertThat(storage.stats.queuedHeapByteCount()).as("stubs only").isZero();
        OwedQueue refused = queue(new QueueBudget(0, 0));
        refused.restore(9, 1, 10, 0);
        assertThat(refused.restoreDroppedUpTo()).isEqualTo(9);
        assertThat(refused.isEmpty()).isTrue();
    }

    @Test
    void the_live_head_is_found_after_dropping_expired_and_missing_messages_at_the_head() {
        long now = 1_000_000;
        OwedQueue q = queue(budget);
        add(q, storage.held(1, 1, 10, now - TTL - 1));
        add(q, storage.held(2, 1, 10, now)).missing = true;
        Owed live = add(q, storage.held(3, 1, 10, now - TTL));

        assertThat(q.liveHead(now)).isSameAs(live);
        assertThat(storage.settled).containsExactly(1L, 2L);
        assertThat(storage.ledger.dropped()).isEqualTo(2);
        assertThat(q.take()).isSameAs(live);
        assertThat(q.liveHead(now)).isNull();
        assertThat(budget.messages()).isZero();
    }

    @Test
    void a_message_is_far_from_the_head_with_more_than_one_window_of_bytes_before_it() {
        OwedQueue q = queue(budget);
        Owed first = add(q, stub(1, 60));
        Owed second = add(q, stub(2, 40));
        Owed third = add(q, stub(3, 10));
        Owed fourth = add(q, stub(4, 10));

        assertThat(q.farFromHead(first)).isFalse();
        assertThat(q.farFromHead(second)).isFalse();
        assertThat(q.farFromHead(third)).as("100 bytes before it").isFalse();
        assertThat(q.farFromHead(fourth)).as("110 bytes before it").isTrue();
        assertThat(q.holdsMoreThanWindow()).isTrue();
        q.take();
        assertThat(q.farFromHead(fourth)).isFalse();
        assertThat(q.holdsMoreThanWindow()).isFalse();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            # queue (s = stub, h = held in heap, m = missing) | stubs read back (window 3 messages, 100 bytes)
            s60 s50                                         | 1
            h10 s60 s40                                     | 2 3
            h10 m10 s40                                     | 3
            s500 s10                                        | 1
            s10 s10 s10 s10                                 | 1 2 3
            h10 h10 h10 s10                                 | ''
            """)
    void the_stubs_at_the_head_are_read_back_a_window_at_a_time_at_least_one_within_max_queued_scanned(String queued, String expected) {
        OwedQueue q = queue(budget);
        long seq = 1;
        for (String s : queued.split(" ")) {
            int size = Integer.parseInt(s.substring(1));
            Owed o = s.charAt(0) == 'h' ? storage.held(seq, 1, size, 0) : stub(seq, size);
            o.missing = s.charAt(0) == 'm';
            add(q, o);
            seq++;
        }

        assertThat(q.stubsAtHead()).extracting(o -> o.seq)
                .containsExactly(Arrays.stream(expected.split(" ")).filter(e -> !e.isEmpty()).map(Long::valueOf).toArray(Long[]::new));
    }

    @Test
    void discard_gives_the_products_budget_back_and_the_heap_its_payloads() {
        OwedQueue q = queue(budget);
        Owed a = add(q, storage.held(1, 1, 10, 0));
        add(q, storage.held(2, 1, 20, 0));

        q.discard();

        assertThat(q.isEmpty()).isTrue();
        assertThat(a.done).isTrue();
        assertThat(budget.messages()).isZero();
        assertThat(budget.bytes()).isZero();
        assertThat(storage.stats.queuedMessageCount()).isZero();
        assertThat(storage.stats.queuedHeapByteCount()).isZero();
        assertThat(storage.settled).as("the rows go with the session's").isEmpty();
    }
}
