package io.stratus.device;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What one node shows of devices on the others: announcements in any order, moves, leases. */
class ClusterPresenceTest {
    private final ClusterPresence presence = new ClusterPresence();

    @Test
    void a_late_offline_from_the_old_node_does_not_hide_a_device_that_moved() {
        assertThat(presence.on(42, "a/1", 5)).isTrue();
        assertThat(presence.on(42, "b/1", 6)).as("moved: still online, no new event").isFalse();

        assertThat(presence.off(42, "a/1", 5)).as("the old node's offline").isFalse();
        assertThat(presence.isOnline(42)).isTrue();
        assertThat(presence.off(42, "b/1", 6)).isTrue();
        assertThat(presence.isOnline(42)).isFalse();
    }

    @Test
    void an_online_older_than_what_is_known_is_ignored() {
        presence.on(7, "b/1", 9);
        presence.on(7, "a/1", 8); // the old node's "online" arriving after the new node's

        assertThat(presence.off(7, "a/1", 8)).isFalse();
        assertThat(presence.isOnline(7)).isTrue();
    }

    @Test
    void a_silent_node_takes_its_devices_with_it_after_the_lease() throws InterruptedException {
        presence.on(1, "a/1", 1);
        presence.on(2, "a/1", 1);
        presence.on(3, "b/1", 1);
        Thread.sleep(60);
        presence.heartbeat("b/1");
        List<String> dead = new ArrayList<>();

        List<Long> gone = presence.expire(50, dead::add);

        assertThat(gone).containsExactlyInAnyOrder(1L, 2L);
        assertThat(dead).containsExactly("a/1");
        assertThat(presence.isOnline(3)).isTrue();
        assertThat(presence.aliveByName("b")).isTrue();
        assertThat(presence.aliveByName("a")).isFalse();
    }

    @Test
    void a_node_that_says_it_stops_takes_its_devices_at_once() {
        presence.on(1, "a/1", 1);
        presence.on(2, "b/1", 1);

        assertThat(presence.left("a/1")).containsExactly(1L);
        assertThat(presence.isOnline(2)).isTrue();
        assertThat(presence.heartbeat("c/1")).as("a node heard for the first time").isFalse();
        assertThat(presence.heartbeat("c/1")).isTrue();
    }
}
