package io.stratus.e2e;

import static io.stratus.e2e.Clients.connect;
import static io.stratus.e2e.Clients.hivemq;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAckReturnCode;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two nodes on one PostgreSQL database: products, devices and keys made or changed through one node's API are known to
 * the other, for logins and for its API, without a restart.
 */
class ClusterRegistryTest {
    private TwoNodes cluster;
    private TestPlatform node1;
    private TestPlatform node2;

    @BeforeEach
    void start() throws Exception {
        cluster = TwoNodes.start();
        node1 = cluster.node1();
        node2 = cluster.node2();
    }

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void a_device_made_on_one_node_connects_at_once_to_the_other() {
        TestProduct product = node1.createProduct("made on node 1");
        TestDevice device = node1.createDevice(product, "d", "sn-1");

        Mqtt3BlockingClient client = hivemq(node2, device); // no wait: the look-up in the store finds it
        connect(client, true);
        client.disconnect();

        assertThatThrownBy(() -> connect(hivemq(node2, "999999", product.id(), "x"), true))
                .isInstanceOf(Mqtt3ConnAckException.class)
                .satisfies(e -> assertThat(((Mqtt3ConnAckException) e).getMqttMessage().getReturnCode())
                        .isEqualTo(Mqtt3ConnAckReturnCode.IDENTIFIER_REJECTED));
        assertThat(node2.metric("stratus_cluster_device_lookups_total")).isGreaterThanOrEqualTo(1);
        eventually("node 2's API serves the product's devices", () ->
                node2.withKey(product.masterKey(), "GET", "/devices/" + device.id(), null).errno() == 0);
    }

    @Test
    void disabling_or_changing_a_device_on_one_node_ends_its_login_on_the_other() {
        TestProduct product = node1.createProduct("p");
        TestDevice a = node1.createDevice(product, "a", "sn-a");
        TestDevice b = node1.createDevice(product, "b", "sn-b");
        Mqtt3BlockingClient clientA = hivemq(node2, a);
        Mqtt3BlockingClient clientB = hivemq(node2, b);
        connect(clientA, true);
        connect(clientB, true);

        assertThat(node1.withKey(product.masterKey(), "PUT", "/devices/" + a.id(), Map.of("disabled", true)).errno()).isZero();
        assertThat(node1.withKey(product.masterKey(), "PUT", "/devices/" + b.id(), Map.of("auth_info", "sn-b2")).errno()).isZero();

        eventually("node 2 closed both connections", () -> !clientA.getState().isConnected() && !clientB.getState().isConnected());
        assertThatThrownBy(() -> connect(hivemq(node2, b), true)).as("the old auth_info").isInstanceOf(Mqtt3ConnAckException.class);
        connect(hivemq(node2, new TestDevice(b.id(), b.productId(), "sn-b2")), true);
        assertThat(node2.metric("stratus_cluster_registry_changes_applied_total")).isGreaterThanOrEqualTo(2);
        assertThat(node1.metric("stratus_cluster_registry_changes_sent_total")).isGreaterThanOrEqualTo(2);
    }

    @Test
    void deleting_a_product_or_a_key_on_one_node_takes_it_away_on_the_other() {
        TestProduct product = node1.createProduct("doomed");
        TestDevice device = node1.createDevice(product, "d", "sn-d");
        var key = node1.withKey(product.masterKey(), "POST", "/keys", Map.of("title", "k",
                "permissions", java.util.List.of(Map.of("resources", java.util.List.of(Map.of("dev_id", device.id())))))).data()
                .path("key").asText();
        eventually("node 2 knows the new key", () -> node2.withKey(key, "GET", "/devices/" + device.id(), null).errno() == 0);
        Mqtt3BlockingClient byKey = hivemq(node2, device.id(), product.id(), key);
        connect(byKey, true);
        assertThat(node1.withKey(product.masterKey(), "DELETE", "/keys/" + key, null).errno()).isZero();
        eventually("the key's login on node 2 ended", () -> !byKey.getState().isConnected());

        Mqtt3BlockingClient client = hivemq(node2, device);
        connect(client, true);
        assertThat(node1.asAdmin("DELETE", "/products/" + product.id(), null).errno()).isZero();
        eventually("node 2 closed the device of the deleted product", () -> !client.getState().isConnected());
        eventually("node 2's API no longer knows the product", () ->
                node2.withKey(product.masterKey(), "GET", "/devices/" + device.id(), null).errno() != 0);
    }

    private static void eventually(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 5 s: " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

}
