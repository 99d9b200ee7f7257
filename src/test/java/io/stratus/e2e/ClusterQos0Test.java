package io.stratus.e2e;

import static io.stratus.e2e.Clients.connect;
import static io.stratus.e2e.Clients.hivemq;
import static io.stratus.e2e.Clients.next;
import static io.stratus.e2e.Clients.text;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import io.stratus.Config;
import io.stratus.cluster.NatsServer;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import io.stratus.store.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Two Stratus nodes on one PostgreSQL database and one nats-server: QoS 0 from a device on one to a device on the other. */
class ClusterQos0Test {
    private NatsServer nats;
    private TestPlatform node1;
    private TestPlatform node2;
    private final List<Mqtt3BlockingClient> clients = new ArrayList<>();

    @BeforeEach
    void startNats() throws Exception {
        nats = NatsServer.start();
    }

    @AfterEach
    void stop() {
        clients.forEach(c -> c.disconnect());
        for (TestPlatform node : new TestPlatform[] {node2, node1}) {
            if (node != null) {
                node.close();
            }
        }
        if (nats != null) {
            nats.close();
        }
    }

    @Test
    void a_subscriber_on_one_node_gets_qos_0_from_another_and_another_product_gets_nothing() throws Exception {
        String store = PostgresServer.get().createDatabase();
        node1 = TestPlatform.start(Files.createTempDirectory("stratus-node1"), settings(store, "node1"));
        TestProduct product = node1.createProduct("cluster");
        TestProduct other = node1.createProduct("other");
        TestDevice publisher = Clients.device(node1, product, "pub");
        TestDevice subscriber = Clients.device(node1, product, "sub");
        TestDevice stranger = Clients.device(node1, other, "stranger");
        // Started after the devices exist: it reads them from the shared store (a device made later on another node is
        // not found yet, see docs/cluster.md).
        node2 = TestPlatform.start(Files.createTempDirectory("stratus-node2"), settings(store, "node2"));

        Mqtt3BlockingClient sub = client(node2, subscriber);
        Mqtt3BlockingClient strange = client(node2, stranger);
        try (var got = sub.publishes(MqttGlobalPublishFilter.ALL); var strangerGot = strange.publishes(MqttGlobalPublishFilter.ALL)) {
            sub.subscribeWith().topicFilter("a/#").qos(MqttQos.AT_MOST_ONCE).send();
            sub.subscribeWith().topicFilter("+/x y").qos(MqttQos.AT_MOST_ONCE).send(); // overlaps nothing above
            strange.subscribeWith().topicFilter("#").qos(MqttQos.AT_MOST_ONCE).send();

            Mqtt3BlockingClient pub = client(node1, publisher);
            List<String> expected = List.of("a", "a/b", "a/", "中/x y", "a/b.c/*/>");
            for (String topic : List.of("a", "a/b", "a/", "b/c", "中/x y", "a/b.c/*/>")) {
                pub.publishWith().topic(topic).qos(MqttQos.AT_MOST_ONCE).payload(topic.getBytes(UTF_8)).send();
            }

            List<String> received = new ArrayList<>();
            for (int i = 0; i < expected.size(); i++) {
                var p = next(got);
                assertThat(text(p)).isEqualTo(p.getTopic().toString());
                received.add(p.getTopic().toString());
            }
            assertThat(received).containsExactlyElementsOf(expected);
            assertThat(got.receive(300, MILLISECONDS)).as("nothing more, and each once").isEmpty();
            assertThat(strangerGot.receive(300, MILLISECONDS)).as("another product's subscriber").isEmpty();
        }
        assertThat(node1.metric("stratus_cluster_messages_sent_total")).isEqualTo(6);
        assertThat(node2.metric("stratus_cluster_messages_received_total")).isEqualTo(6); // handed over, then matched
        assertThat(node2.metric("stratus_cluster_products_routed")).isEqualTo(2);
        assertThat(node1.metric("stratus_cluster_nats_connected")).isEqualTo(1);
    }

    @Test
    void a_data_point_stored_on_one_node_is_forwarded_to_its_subscriber_on_the_other() throws Exception {
        String store = PostgresServer.get().createDatabase();
        node1 = TestPlatform.start(Files.createTempDirectory("stratus-node1"), settings(store, "node1"));
        node2 = TestPlatform.start(Files.createTempDirectory("stratus-node2"), settings(store, "node2"));
        TestProduct product = node1.createProduct("forward");
        TestDevice uploader = Clients.device(node1, product, "uploader");
        TestDevice watcher = Clients.device(node1, product, "watcher");
        Mqtt3BlockingClient up = client(node1, uploader); // node 1 has no subscriber in the product at all
        Mqtt3BlockingClient watch = client(node2, watcher);
        try (var got = watch.publishes(MqttGlobalPublishFilter.ALL)) {
            watch.subscribeWith().topicFilter("/" + uploader.id() + "/temp").qos(MqttQos.AT_MOST_ONCE).send();
            byte[] json = "{\"temp\":21.5}".getBytes(UTF_8);
            byte[] dp = new byte[3 + json.length];
            dp[0] = 3; // type 3: {"stream": value}
            dp[1] = (byte) (json.length >> 8);
            dp[2] = (byte) json.length;
            System.arraycopy(json, 0, dp, 3, json.length);
            up.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE).payload(dp).send();

            var p = next(got);
            assertThat(p.getTopic().toString()).isEqualTo("/" + uploader.id() + "/temp");
            assertThat(text(p)).contains("21.5");
        }
    }

    @Test
    void a_node_that_lost_nats_is_not_ready() throws Exception {
        String store = PostgresServer.get().createDatabase();
        node1 = TestPlatform.start(Files.createTempDirectory("stratus-node1"), settings(store, "node1"));
        assertThat(node1.call("GET", "/healthz/ready", null, Map.of()).status()).isEqualTo(200);

        nats.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        int status;
        do {
            Thread.sleep(200);
            status = node1.call("GET", "/healthz/ready", null, Map.of()).status();
        } while (status == 200 && System.nanoTime() < deadline);

        assertThat(status).as("/healthz/ready without NATS").isEqualTo(503);
        assertThat(node1.call("GET", "/healthz/ready", null, Map.of()).body().toString()).contains("NATS");
    }

    @Test
    void cluster_mode_needs_the_shared_postgresql_store() {
        assertThatThrownBy(() -> Config.of(Map.of("cluster.nats-url", "nats://127.0.0.1:4222")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("store.url");
        assertThat(Config.of(Map.of("cluster.nats-url", "nats://a:4222, nats://b:4222", "store.url", "postgresql://h/db"))
                .cluster().natsUrls()).containsExactly("nats://a:4222", "nats://b:4222");
        assertThat(Config.of(Map.of()).cluster().enabled()).isFalse();
    }

    private Mqtt3BlockingClient client(TestPlatform node, TestDevice device) {
        Mqtt3BlockingClient c = hivemq(node, device);
        connect(c, true);
        clients.add(c);
        return c;
    }

    private Map<String, String> settings(String store, String name) {
        return Map.of("store.url", store, "cluster.nats-url", nats.url(), "cluster.node-name", name);
    }
}
