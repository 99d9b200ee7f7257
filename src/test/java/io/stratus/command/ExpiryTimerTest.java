package io.stratus.command;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The {@code command-timer}: one ordered set of (expiry time, id), walked in order. */
class ExpiryTimerTest {
    private final ExpiryTimer timer = new ExpiryTimer();
    private final List<String> expired = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        if (timer.worker() != null) {
            timer.stop();
            timer.worker().join(5_000);
        }
    }

    @Test
    void expiries_are_ordered_by_time_then_id() {
        List<ExpiryTimer.Expiry> expiries = new ArrayList<>(List.of(
                new ExpiryTimer.Expiry(20, "a"),
                new ExpiryTimer.Expiry(10, "b"),
                new ExpiryTimer.Expiry(20, "0"),
                new ExpiryTimer.Expiry(10, "a")));

        expiries.sort(null);

        assertThat(expiries).containsExactly(
                new ExpiryTimer.Expiry(10, "a"),
                new ExpiryTimer.Expiry(10, "b"),
                new ExpiryTimer.Expiry(20, "0"),
                new ExpiryTimer.Expiry(20, "a"));
    }

    @Test
    void due_expiries_are_expired_in_time_order_and_later_ones_when_they_fall_due() {
        long now = System.currentTimeMillis();
        timer.schedule(new ExpiryTimer.Expiry(now + 300, "later"));
        timer.schedule(new ExpiryTimer.Expiry(now - 10, "third"));
        timer.schedule(new ExpiryTimer.Expiry(now - 30, "first"));
        timer.schedule(new ExpiryTimer.Expiry(now - 20, "second"));

        timer.start(expired::add);

        await().atMost(5, SECONDS).untilAsserted(() ->
                assertThat(expired).containsExactly("first", "second", "third", "later"));
    }

    @Test
    void an_earlier_expiry_wakes_the_timer_that_waits_for_a_later_one() {
        long now = System.currentTimeMillis();
        timer.schedule(new ExpiryTimer.Expiry(now + 50_000, "late"));
        timer.schedule(new ExpiryTimer.Expiry(now + 100, "first"));
        timer.start(expired::add);
        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(expired).containsExactly("first"));

        // The timer now waits up to 50 s for "late": only the wake-up makes this one expire in time.
        timer.schedule(new ExpiryTimer.Expiry(System.currentTimeMillis() + 10, "soon"));

        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(expired).containsExactly("first", "soon"));
    }

    @Test
    void a_cancelled_expiry_is_never_expired() {
        long now = System.currentTimeMillis();
        ExpiryTimer.Expiry answered = new ExpiryTimer.Expiry(now + 100, "answered");
        timer.schedule(answered);
        timer.schedule(new ExpiryTimer.Expiry(now + 300, "open"));

        timer.cancel(answered);
        timer.start(expired::add);

        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(expired).containsExactly("open"));
    }

    @Test
    void an_expiry_whose_handling_fails_is_tried_again_next_round() {
        timer.schedule(new ExpiryTimer.Expiry(System.currentTimeMillis() - 1, "flaky"));

        timer.start(uuid -> {
            expired.add(uuid);
            if (expired.size() == 1) {
                throw new IllegalStateException("store unavailable");
            }
        });

        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(expired).containsExactly("flaky", "flaky"));
    }
}
