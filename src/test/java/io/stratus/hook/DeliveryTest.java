package io.stratus.hook;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stratus.Config;
import io.stratus.e2e.LogCapture;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The outbound queue on its own against a real HTTP receiver: retries, give-up, and a bounded queue. */
class DeliveryTest {

    private static Config.HookSettings settings(int queue, int senders, int attempts, long timeoutMillis) {
        return new Config.HookSettings(Duration.ofMillis(timeoutMillis), queue, senders, attempts, Duration.ofMillis(20),
                Duration.ofMillis(100), 100, Duration.ofMillis(50));
    }

    @Test
    void retries_after_http_500_until_the_receiver_accepts() {
        AtomicInteger calls = new AtomicInteger();
        try (Receiver receiver = Receiver.start(); Delivery delivery = new Delivery(settings(10, 2, 3, 2000))) {
            receiver.answer(r -> calls.incrementAndGet() <= 2 ? new Receiver.Reply(500, "busy") : Receiver.Reply.ok("ok"));

            assertThat(delivery.post(URI.create(receiver.url("/hook")), "{\"n\":1}".getBytes(UTF_8), "test")).isTrue();

            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(delivery.stats().delivered()).isEqualTo(1));
            assertThat(receiver.requests()).hasSize(3).allSatisfy(r -> assertThat(r.body()).isEqualTo("{\"n\":1}"));
            assertThat(receiver.requests()).allSatisfy(r -> assertThat(r.method()).isEqualTo("POST"));
            assertThat(delivery.stats().retried()).isEqualTo(2);
            assertThat(delivery.stats().failed()).isZero();
        }
    }

    @Test
    void gives_up_after_the_configured_attempts() {
        try (Receiver receiver = Receiver.start(); Delivery delivery = new Delivery(settings(10, 1, 3, 2000))) {
            receiver.answer(r -> new Receiver.Reply(503, "down"));

            delivery.post(URI.create(receiver.url("/hook")), "{}".getBytes(UTF_8), "test");

            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(delivery.stats().failed()).isEqualTo(1));
            assertThat(receiver.requests()).hasSize(3);
            assertThat(delivery.stats().delivered()).isZero();
        }
    }

    @Test
    void an_unreachable_receiver_counts_as_a_failure_not_an_error() {
        Receiver gone = Receiver.start();
        String url = gone.url("/hook");
        gone.close();
        try (Delivery delivery = new Delivery(settings(10, 1, 2, 1000))) {
            delivery.post(URI.create(url), "{}".getBytes(UTF_8), "test");

            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(delivery.stats().failed()).isEqualTo(1));
        }
    }

    @Test
    void a_receiver_that_never_answers_fills_the_bounded_queue_and_posts_are_dropped_without_waiting() {
        try (Receiver receiver = Receiver.start(); Delivery delivery = new Delivery(settings(5, 2, 3, 10_000));
             LogCapture log = LogCapture.of(Delivery.class.getName()).attach()) {
            receiver.hang();
            URI url = URI.create(receiver.url("/hook"));

            long start = System.nanoTime();
            int accepted = 0;
            for (int i = 0; i < 2_000; i++) {
                if (delivery.post(url, ("{\"i\":" + i + "}").getBytes(UTF_8), "test")) {
                    accepted++;
                }
            }
            long tookMillis = (System.nanoTime() - start) / 1_000_000;

            // 2 senders hold one post each while the receiver hangs; 5 more wait in the queue.
            assertThat(accepted).isBetween(5, 7);
            assertThat(delivery.stats().queued()).isLessThanOrEqualTo(5);
            assertThat(delivery.stats().dropped()).isEqualTo(2_000 - accepted);
            assertThat(tookMillis).as("2000 posts against a hanging receiver").isLessThan(1_000);
            // Logged on the first drop and then once per Delivery.DROP_LOG_EVERY: 1993+ drops -> 2 lines.
            assertThat(log.lines("Hook queue full")).hasSize(1 + (2_000 - accepted) / Delivery.DROP_LOG_EVERY);
        }
    }
}
