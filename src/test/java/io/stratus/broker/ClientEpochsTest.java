package io.stratus.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Of racing claims of one client id, the highest epoch wins on every node, whatever the order they arrive in. */
class ClientEpochsTest {
    private final ClientEpochs epochs = new ClientEpochs();

    @Test
    void a_connection_whose_claim_is_older_than_one_known_is_refused() {
        assertThat(epochs.admit("1/a", 7)).isTrue();
        assertThat(epochs.admit("1/a", 5)).isFalse();
        assertThat(epochs.admit("1/a", 8)).isTrue();
    }

    @Test
    void a_newer_claim_elsewhere_closes_the_connection_here_and_an_older_one_does_not() {
        epochs.admit("1/a", 3);

        assertThat(epochs.claimedElsewhere("1/a", 2, Map.of())).as("older than what is here").isFalse();
        assertThat(epochs.claimedElsewhere("1/a", 4, Map.of())).isTrue();
        assertThat(epochs.admit("1/a", 3)).as("a connection of the older claim arriving late").isFalse();
    }

    @Test
    void a_claim_elsewhere_before_the_local_connection_binds_refuses_it() {
        assertThat(epochs.claimedElsewhere("1/b", 10, Map.of())).isTrue();

        assertThat(epochs.admit("1/b", 9)).isFalse();
        assertThat(epochs.release("1/b")).isEqualTo(10);
        assertThat(epochs.release("1/b")).isZero();
    }
}
