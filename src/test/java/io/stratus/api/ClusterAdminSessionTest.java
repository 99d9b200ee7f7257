package io.stratus.api;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TwoNodes;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The admin's sessions across two nodes on one database: a sign-in works on both, a sign-out on one ends it on both. */
class ClusterAdminSessionTest {
    private TwoNodes cluster;

    @BeforeEach
    void start() throws Exception {
        cluster = TwoNodes.start();
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void a_session_signed_out_on_one_node_ends_on_the_other_that_had_it_in_memory() {
        TestPlatform node1 = cluster.node1();
        TestPlatform node2 = cluster.node2();
        String token = node1.call("POST", "/auth/login", Map.of("username", "admin", "password", TestPlatform.ADMIN_PASSWORD),
                Map.of()).data().path("token").asText();
        String other = node1.call("POST", "/auth/login", Map.of("username", "admin", "password", TestPlatform.ADMIN_PASSWORD),
                Map.of()).data().path("token").asText();
        assertThat(node2.call("GET", "/products", null, bearer(token)).errno()).as("node 2 reads it from the store").isZero();
        assertThat(node2.call("GET", "/products", null, bearer(other)).errno()).isZero();

        assertThat(node1.call("POST", "/auth/logout", null, bearer(token)).errno()).isZero();

        await().atMost(5, SECONDS).until(() -> node2.call("GET", "/products", null, bearer(token)).errno() == 3);
        assertThat(node2.call("GET", "/products", null, bearer(other)).errno()).as("the other session stays").isZero();
    }

    private static Map<String, String> bearer(String token) {
        return Map.of("Authorization", "Bearer " + token);
    }
}
