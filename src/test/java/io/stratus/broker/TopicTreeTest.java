package io.stratus.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TopicTreeTest {

    @ParameterizedTest(name = "{0} vs {1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            # filter               | topic                                | matches
            a/b/c                  | a/b/c                                | true
            a/b/c                  | a/b                                  | false
            a/b                    | a/b/c                                | false
            a/b/c                  | a/b/d                                | false
            a                      | a                                    | true
            a                      | ab                                   | false
            +/b/c                  | a/b/c                                | true
            a/+/c                  | a/b/c                                | true
            a/b/+                  | a/b/c                                | true
            +/+/+                  | a/b/c                                | true
            +/b/c                  | a/x/c                                | false
            a/+/c                  | a/b/c/d                              | false
            a/+                    | a/b/c                                | false
            +                      | a                                    | true
            +                      | a/b                                  | false
            +                      | /a                                   | false
            +/+                    | /a                                   | true
            +/a                    | /a                                   | true
            a/+                    | a/                                   | true
            a/+/b                  | a//b                                 | true
            +/b                    | /b                                   | true
            sport/+                | sport                                | false
            sport/+                | sport/                               | true
            a//b                   | a//b                                 | true
            a//b                   | a/b                                  | false
            a/b                    | a//b                                 | false
            '#'                    | a                                    | true
            '#'                    | a/b/c                                | true
            '#'                    | /a                                   | true
            '#'                    | /                                    | true
            a/#                    | a                                    | true
            a/#                    | a/b                                  | true
            a/#                    | a/b/c                                | true
            a/#                    | a/                                   | true
            a/#                    | ab                                   | false
            a/#                    | b/a                                  | false
            a/b/#                  | a                                    | false
            +/#                    | a                                    | true
            a/+/#                  | a/b                                  | true
            a/+/#                  | a                                    | false
            sport/tennis/player1/# | sport/tennis/player1                 | true
            sport/tennis/player1/# | sport/tennis/player1/score/wimbledon | true
            /#                     | /a                                   | true
            /#                     | /                                    | true
            /#                     | a                                    | false
            /a                     | /a                                   | true
            /a                     | a                                    | false
            a                      | /a                                   | false
            /                      | /                                    | true
            /+                     | /finance                             | true
            +                      | /finance                             | false
            /9278/9527             | /9278/9527                           | true
            /+/9527                | /9278/9527                           | true
            /+/9527                | /9278/9528                           | false
            '#'                    | $dp                                  | false
            +                      | $dp                                  | false
            $dp                    | $dp                                  | true
            $dp                    | dp                                   | false
            $SYS/#                 | $SYS/x                               | true
            $SYS/#                 | $SYS                                 | true
            $SYS/+                 | $SYS/x                               | true
            $SYS/x                 | $SYS/x                               | true
            +/x                    | $SYS/x                               | false
            +/#                    | $SYS/x                               | false
            '#'                    | $SYS/x                               | false
            a/+                    | a/$x                                 | true
            a/#                    | a/$x/y                               | true
            A/b                    | a/b                                  | false
            a/B                    | a/b                                  | false
            +/B                    | a/b                                  | false
            a/b                    | A/B                                  | false
            温度/+                  | 温度/室内                              | true
            温度/+                  | 温度计/室内                             | false
            """)
    void filter_matches_topic_per_MQTT_4_7(String filter, String topic, boolean expected) {
        TopicTree<String> tree = new TopicTree<>();
        tree.subscribe(filter, "s", 1);

        assertThat(matches(tree, topic)).as("%s vs %s", filter, topic)
                .isEqualTo(expected ? List.of(entry("s", 1)) : List.of());
    }

    @Test
    void overlapping_filters_visit_the_subscriber_once_per_filter_with_its_qos() {
        TopicTree<String> tree = new TopicTree<>();
        tree.subscribe("a/+", "s", 0);
        tree.subscribe("a/#", "s", 2);
        tree.subscribe("#", "s", 1);
        tree.subscribe("a/b", "s", 1);
        tree.subscribe("a/c", "s", 2);

        assertThat(matches(tree, "a/b"))
                .containsExactlyInAnyOrder(entry("s", 0), entry("s", 2), entry("s", 1), entry("s", 1));
        assertThat(tree.size()).isEqualTo(5);
    }

    @Test
    void subscribing_again_replaces_the_qos() {
        TopicTree<String> tree = new TopicTree<>();
        tree.subscribe("a/+", "s", 0);
        tree.subscribe("a/+", "s", 2);

        assertThat(tree.size()).isEqualTo(1);
        assertThat(matches(tree, "a/b")).containsExactly(entry("s", 2));
    }

    @Test
    void subscribers_are_keyed_by_equals() {
        TopicTree<String> tree = new TopicTree<>();
        tree.subscribe("a", new String("s"), 0);
        tree.subscribe("a", new String("s"), 1);

        assertThat(tree.size()).isEqualTo(1);
        assertThat(tree.unsubscribe("a", new String("s"))).isTrue();
        assertThat(tree.size()).isZero();
    }

    @Test
    void unsubscribe_removes_and_prunes_empty_nodes() {
        TopicTree<String> tree = new TopicTree<>();
        List<String> filters = List.of("a/b/c", "a/+/c/#", "/#", "#", "+", "a//b", "$SYS/x", "a/b");
        for (String filter : filters) {
            tree.subscribe(filter, "s", 1);
        }
        assertThat(tree.size()).isEqualTo(filters.size());

        for (String filter : filters) {
            assertThat(tree.unsubscribe(filter, "s")).as(filter).isTrue();
        }

        assertThat(tree.size()).isZero();
        assertThat(tree.nodeCount()).isZero();
        for (String topic : List.of("a/b/c", "a/b", "a", "/x", "a//b", "$SYS/x")) {
            assertThat(matches(tree, topic)).as(topic).isEmpty();
        }
    }

    @Test
    void unsubscribe_keeps_nodes_still_in_use() {
        TopicTree<String> tree = new TopicTree<>();
        tree.subscribe("a/b/c", "s", 1);
        tree.subscribe("a/b", "t", 1);
        tree.subscribe("a/+/c", "u", 1);

        assertThat(tree.unsubscribe("a/b/c", "s")).isTrue();

        assertThat(matches(tree, "a/b")).containsExactly(entry("t", 1));
        assertThat(matches(tree, "a/b/c")).containsExactly(entry("u", 1));
        assertThat(tree.nodeCount()).isEqualTo(4); // a, a/b, a/+, a/+/c
    }

    @Test
    void unsubscribe_of_an_unknown_subscription_returns_false() {
        TopicTree<String> tree = new TopicTree<>();
        tree.subscribe("a/b", "s", 1);

        assertThat(tree.unsubscribe("a/c", "s")).isFalse();
        assertThat(tree.unsubscribe("a/b", "t")).isFalse();
        assertThat(tree.unsubscribe("a/+", "s")).isFalse();
        assertThat(tree.unsubscribe("a/#", "s")).isFalse();
        assertThat(tree.unsubscribe("a/b/c", "s")).isFalse();
        assertThat(tree.unsubscribe("a/#/b", "s")).isFalse();
        assertThat(tree.unsubscribe("a/b", "s")).isTrue();
        assertThat(tree.unsubscribe("a/b", "s")).isFalse();
        assertThat(tree.size()).isZero();
    }

    @Test
    void subscribe_rejects_an_invalid_filter_or_qos() {
        TopicTree<String> tree = new TopicTree<>();

        assertThatThrownBy(() -> tree.subscribe("a/#/b", "s", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tree.subscribe("a+", "s", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tree.subscribe("", "s", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tree.subscribe("a", "s", 3)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tree.subscribe("a", "s", -1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(tree.size()).isZero();
        assertThat(tree.nodeCount()).isZero();
    }

    @Test
    void many_subscribers_on_one_filter_are_each_visited_once() {
        TopicTree<Integer> tree = new TopicTree<>();
        for (int i = 0; i < 1000; i++) {
            tree.subscribe("/9278/+", i, i % 3);
        }

        List<Map.Entry<Integer, Integer>> visited = matches(tree, "/9278/9527");

        assertThat(visited).hasSize(1000);
        assertThat(visited).extracting(Map.Entry::getKey).doesNotHaveDuplicates();
        assertThat(visited).allSatisfy(e -> assertThat(e.getValue()).isEqualTo(e.getKey() % 3));
        assertThat(tree.size()).isEqualTo(1000);
    }

    @Test
    void concurrent_subscribe_unsubscribe_and_match_keep_the_tree_consistent() throws Exception {
        TopicTree<String> tree = new TopicTree<>();
        // Stable subscriptions sit on the nodes the writers keep creating and pruning around;
        // every match must see them whatever the writers are doing.
        tree.subscribe("a/b/c", "stable", 1);
        tree.subscribe("a/+/c", "stable", 2);
        tree.subscribe("#", "stable", 0);
        int writers = 4;
        int matchers = 3;
        int rounds = 2000;
        List<String> churn = List.of("a/b/c/d", "a/b", "a/+/c/#", "a/b/+", "a/b/c", "a/#", "+/b/c", "x/y", "a//c");

        ExecutorService pool = Executors.newFixedThreadPool(writers + matchers);
        try {
            CountDownLatch go = new CountDownLatch(1);
            AtomicBoolean writing = new AtomicBoolean(true);
            ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
            List<Future<?>> writes = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                String me = "w" + w;
                writes.add(pool.submit(() -> {
                    go.await();
                    for (int r = 0; r < rounds; r++) {
                        String filter = churn.get(r % churn.size());
                        tree.subscribe(filter, me, r % 3);
                        if (r % 2 == 0 && !tree.unsubscribe(filter, me)) {
                            problems.add(me + " could not unsubscribe " + filter);
                        }
                    }
                    return null;
                }));
            }
            List<Future<?>> reads = new ArrayList<>();
            for (int m = 0; m < matchers; m++) {
                reads.add(pool.submit(() -> {
                    go.await();
                    do {
                        List<Map.Entry<String, Integer>> seen = matches(tree, "a/b/c");
                        if (seen.stream().filter(e -> e.getKey().equals("stable")).count() != 3) {
                            problems.add("stable subscriptions not all seen: " + seen);
                        }
                    } while (writing.get());
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : writes) {
                f.get(60, TimeUnit.SECONDS);
            }
            writing.set(false);
            for (Future<?> f : reads) {
                f.get(60, TimeUnit.SECONDS);
            }

            assertThat(problems).isEmpty();
        } finally {
            pool.shutdownNow();
        }

        // Each writer removes what it subscribed on even rounds only, so a filter it last touched on an odd round stays.
        long expectedPerWriter = churn.stream()
                .filter(f -> lastRoundOf(churn.indexOf(f), churn.size(), rounds) % 2 == 1)
                .count();
        assertThat(tree.size()).isEqualTo(3 + writers * (int) expectedPerWriter);
        for (int w = 0; w < writers; w++) {
            for (String filter : churn) {
                boolean kept = lastRoundOf(churn.indexOf(filter), churn.size(), rounds) % 2 == 1;
                assertThat(tree.unsubscribe(filter, "w" + w)).as("w%d %s", w, filter).isEqualTo(kept);
            }
        }
        assertThat(tree.size()).isEqualTo(3);
        assertThat(matches(tree, "a/b/c"))
                .containsExactlyInAnyOrder(entry("stable", 1), entry("stable", 2), entry("stable", 0));
    }

    private static int lastRoundOf(int index, int period, int rounds) {
        return index + (rounds - 1 - index) / period * period;
    }

    private static <S> List<Map.Entry<S, Integer>> matches(TopicTree<S> tree, String topic) {
        List<Map.Entry<S, Integer>> visited = new ArrayList<>();
        tree.match(topic, (s, qos) -> visited.add(Map.entry(s, qos)));
        return visited;
    }
}
