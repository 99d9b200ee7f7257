package io.stratus.hook;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.stratus.Config;
import io.stratus.e2e.LogCapture;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The outbound queue on its own against a real HTTP receiver: retries, give-up, a bounded queue, no redirects, and
 * {@code hook.deny-networks} applied to the addresses a host name resolves to.
 */
class DeliveryTest {
    /** Loopback, whichever family "localhost" resolves to on this machine. */
    private static final List<String> NO_LOOPBACK = List.of("127.0.0.0/8", "::1/128");

    private static Delivery delivery(int queue, int senders, int attempts, long timeoutMillis) {
        return delivery(queue, senders, attempts, timeoutMillis, List.of());
    }

    /** A delivery with these settings, denying the {@code deny} blocks as {@code hook.deny-networks} would. */
    private static Delivery delivery(int queue, int senders, int attempts, long timeoutMillis, List<String> deny) {
        return new Delivery(new Config.HookSettings(Duration.ofMillis(timeoutMillis), queue, senders, attempts,
                Duration.ofMillis(20), Duration.ofMillis(100), 100, Duration.ofMillis(50), deny, 100), NetworkPolicy.of(deny));
    }

    /** The receiver's URL with the host name "localhost", which only resolution turns into a loopback address. */
    private static URI byName(Receiver receiver, String path) {
        return URI.create(receiver.url(path).replace("//127.0.0.1:", "//localhost:"));
    }

    @Test
    void retries_after_http_500_until_the_receiver_accepts() {
        AtomicInteger calls = new AtomicInteger();
        try (Receiver receiver = Receiver.start(); Delivery delivery = delivery(10, 2, 3, 2000)) {
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
        try (Receiver receiver = Receiver.start(); Delivery delivery = delivery(10, 1, 3, 2000)) {
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
        try (Delivery delivery = delivery(10, 1, 2, 1000)) {
            delivery.post(URI.create(url), "{}".getBytes(UTF_8), "test");

            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(delivery.stats().failed()).isEqualTo(1));
        }
    }

    @Test
    void a_name_resolving_into_a_denied_network_gets_nothing_fails_at_once_and_is_logged_once_per_target() {
        try (Receiver receiver = Receiver.start(); Delivery delivery = delivery(20, 2, 3, 2000, NO_LOOPBACK);
             LogCapture log = LogCapture.of(Delivery.class.getName()).attach()) {
            URI url = byName(receiver, "/hook");
            for (int i = 0; i < 5; i++) {
                assertThat(delivery.post(url, ("{\"i\":" + i + "}").getBytes(UTF_8), "trigger 1")).isTrue();
            }
            delivery.post(url, "{}".getBytes(UTF_8), "trigger 2");

            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(delivery.stats().failed()).isEqualTo(6));
            assertThat(delivery.stats().denied()).isEqualTo(6);
            assertThat(delivery.stats().retried()).as("a refusal is permanent").isZero();
            assertThat(delivery.stats().delivered()).isZero();
            assertThat(receiver.requests()).isEmpty();
            // One WARN per target (per minute), naming the rule, not one per post.
            assertThat(log.lines("refused")).hasSize(2);
            assertThat(log.lines("trigger 1 to localhost refused", "localhost resolves to ", "denied by hook.deny-networks"))
                    .hasSize(1);
            assertThat(log.lines("trigger 2 to localhost refused")).hasSize(1);
        }
    }

    @Test
    void an_address_literal_is_checked_too_and_addresses_outside_the_blocks_are_delivered_to() {
        try (Receiver receiver = Receiver.start();
             Delivery denying = delivery(10, 1, 3, 2000, List.of("127.0.0.1/32"));
             Delivery allowing = delivery(10, 1, 3, 2000, List.of("127.0.0.2/32", "10.0.0.0/8"))) {
            URI url = URI.create(receiver.url("/hook"));

            denying.post(url, "{\"from\":\"denying\"}".getBytes(UTF_8), "trigger 1");
            allowing.post(url, "{\"from\":\"allowing\"}".getBytes(UTF_8), "trigger 1");

            await().atMost(5, SECONDS).untilAsserted(() -> {
                assertThat(denying.stats().denied()).isEqualTo(1);
                assertThat(allowing.stats().delivered()).isEqualTo(1);
            });
            assertThat(receiver.requests()).extracting(Receiver.Request::body).containsExactly("{\"from\":\"allowing\"}");
        }
    }

    @Test
    void the_verification_get_to_a_denied_name_throws_the_refusal() {
        try (Receiver receiver = Receiver.start(); Delivery delivery = delivery(10, 1, 3, 2000, NO_LOOPBACK)) {
            assertThatThrownBy(() -> delivery.get(byName(receiver, "/push?msg=x")))
                    .isInstanceOf(NetworkPolicy.Denied.class)
                    .hasMessageContaining("localhost resolves to ")
                    .hasMessageContaining("denied by hook.deny-networks");
            assertThat(receiver.requests()).isEmpty();
        }
    }

    @Test
    void redirects_are_not_followed_so_none_can_lead_into_a_denied_network() {
        try (Receiver receiver = Receiver.start(); Receiver elsewhere = Receiver.start();
             Delivery delivery = delivery(10, 1, 2, 2000)) {
            receiver.answer(r -> Receiver.Reply.redirect(elsewhere.url("/metadata")));

            delivery.post(URI.create(receiver.url("/hook")), "{}".getBytes(UTF_8), "test");

            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(delivery.stats().failed()).isEqualTo(1));
            assertThat(receiver.requests()).hasSize(2); // a 3xx is a failed try like any non-2xx
            assertThat(elsewhere.requests()).isEmpty();
        }
    }

    @Test
    void a_large_reply_body_is_read_and_discarded() {
        try (Receiver receiver = Receiver.start(); Delivery delivery = delivery(10, 1, 1, 5000)) {
            receiver.answer(r -> Receiver.Reply.ok("x".repeat(3 * 1024 * 1024)));

            delivery.post(URI.create(receiver.url("/hook")), "{}".getBytes(UTF_8), "test");

            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(delivery.stats().delivered()).isEqualTo(1));
        }
    }

    @Test
    void a_receiver_that_never_answers_fills_the_bounded_queue_and_posts_are_dropped_without_waiting() {
        try (Receiver receiver = Receiver.start(); Delivery delivery = delivery(5, 2, 3, 10_000);
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
