package io.stratus.device;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Back-off arithmetic on a fake clock: thresholds, doubling, the cap, reset on success, the bounded map. */
class LoginThrottleTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final LoginThrottle throttle = new LoginThrottle(3, 10, 1000, 8000, now::get);
    private final String device = LoginThrottle.device(42, "192.0.2.1");

    @Test
    void a_key_is_blocked_only_after_max_failures() {
        throttle.failure(device);
        throttle.failure(device);
        assertThat(throttle.blockedMillis(device)).isZero();

        throttle.failure(device);

        assertThat(throttle.blockedMillis(device)).isEqualTo(1000);
    }

    @Test
    void each_further_failure_doubles_the_block_up_to_the_cap() {
        for (int i = 0; i < 3; i++) {
            throttle.failure(device);
        }
        long[] expected = {2000, 4000, 8000, 8000};
        for (long millis : expected) {
            now.addAndGet(throttle.blockedMillis(device)); // wait out the block, then fail again
            throttle.failure(device);
            assertThat(throttle.blockedMillis(device)).isEqualTo(millis);
        }
    }

    @Test
    void the_block_ends_with_its_time() {
        for (int i = 0; i < 3; i++) {
            throttle.failure(device);
        }
        now.addAndGet(999);
        assertThat(throttle.blockedMillis(device)).isEqualTo(1);
        now.addAndGet(1);
        assertThat(throttle.blockedMillis(device)).isZero();
    }

    @Test
    void a_success_clears_the_count() {
        throttle.failure(device);
        throttle.failure(device);
        throttle.success(device);
        throttle.failure(device);
        throttle.failure(device);

        assertThat(throttle.blockedMillis(device)).isZero();
    }

    @Test
    void addresses_have_their_own_higher_threshold() {
        String address = LoginThrottle.address("10.0.0.1");
        for (int i = 0; i < 9; i++) {
            throttle.failure(address);
        }
        assertThat(throttle.blockedMillis(address)).isZero();
        throttle.failure(address);
        assertThat(throttle.blockedMillis(address)).isEqualTo(1000);
        assertThat(throttle.blockedMillis(LoginThrottle.address("10.0.0.2"))).isZero();
    }

    @Test
    void a_quiet_key_starts_counting_afresh() {
        throttle.failure(device);
        throttle.failure(device);
        now.addAndGet(8001);
        throttle.failure(device);

        assertThat(throttle.blockedMillis(device)).isZero();
    }

    @Test
    void counters_for_metrics() {
        for (int i = 0; i < 4; i++) {
            throttle.failure(device);
        }
        throttle.blockedMillis(device);

        assertThat(throttle.failureCount()).isEqualTo(4);
        assertThat(throttle.blockedCount()).isEqualTo(1);
    }

    @Test
    void a_spray_of_keys_is_bounded_and_stale_keys_are_swept() {
        for (int i = 0; i < LoginThrottle.MAX_KEYS + 5_000; i++) {
            throttle.failure(LoginThrottle.address("ip" + i));
        }
        assertThat(throttle.trackedKeys()).isLessThanOrEqualTo(LoginThrottle.MAX_KEYS);

        now.addAndGet(60_000); // all quiet and unblocked
        throttle.failure(device);

        assertThat(throttle.trackedKeys()).isLessThan(100);
    }
}
