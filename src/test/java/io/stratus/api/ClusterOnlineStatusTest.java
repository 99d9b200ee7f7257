package io.stratus.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TwoNodes;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Online status and {@code /events} presence across two nodes: any node's API shows where a device is connected. */
class ClusterOnlineStatusTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private TwoNodes cluster;
    private TestPlatform node1;
    private TestPlatform node2;
    private TestProduct product;
    private TestDevice device;

    @BeforeEach
    void start() throws Exception {
        cluster = TwoNodes.start();
        node1 = cluster.node1();
        node2 = cluster.node2();
        product = node1.createProduct("presence");
        device = node1.createDevice(product, "d", "sn-presence");
    }

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void a_device_on_one_node_is_online_in_the_other_nodes_api_and_events() throws Exception {
        HttpResponse<InputStream> stream = HTTP.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + node1.platform().httpPort() + "/events?product_id=" + product.id()))
                .header("Accept", "text/event-stream").header("api-key", product.masterKey()).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (EventsApiTest.EventReader events = new EventsApiTest.EventReader(stream.body())) {
            Mqtt3BlockingClient c = client(node2);
            c.connectWith().cleanSession(true).send();

            await().atMost(3, TimeUnit.SECONDS).until(() -> online(node1));
            assertThat(events.await("device.online", device.id()).path("device").asText()).isEqualTo(device.id());

            c.disconnect();
            await().atMost(3, TimeUnit.SECONDS).until(() -> !online(node1));
            assertThat(events.await("device.offline", device.id()).path("device").asText()).isEqualTo(device.id());
        }
        assertThat(node1.metric("stratus_cluster_devices_online_elsewhere")).isZero();
    }

    @Test
    void a_device_that_moves_to_another_node_is_never_shown_offline() throws Exception {
        client(node1).connectWith().cleanSession(true).send();
        assertThat(online(node2) || awaitOnline(node2)).isTrue();
        EventsApiTest.EventReader events = new EventsApiTest.EventReader(HTTP.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + node1.platform().httpPort() + "/events?product_id=" + product.id()))
                .header("Accept", "text/event-stream").header("api-key", product.masterKey()).build(),
                HttpResponse.BodyHandlers.ofInputStream()).body());

        Mqtt3BlockingClient moved = client(node2);
        moved.connectWith().cleanSession(true).send(); // node 1's connection is taken over
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_500);
        int checks = 0;
        while (System.nanoTime() < until) {
            assertThat(online(node1)).as("node 1's view after %d checks", checks).isTrue();
            assertThat(online(node2)).as("node 2's view after %d checks", checks).isTrue();
            checks++;
        }
        assertThat(checks).isGreaterThan(10);
        assertThat(events.events).as("node 1's events during the move").noneMatch(e -> e.name().equals("device.offline"));
        events.close();
        moved.disconnect();
    }

    private boolean awaitOnline(TestPlatform node) {
        await().atMost(3, TimeUnit.SECONDS).until(() -> online(node));
        return true;
    }

    private boolean online(TestPlatform node) {
        return node.withKey(product.masterKey(), "GET", "/devices/" + device.id(), null).data().path("online").asBoolean();
    }

    private Mqtt3BlockingClient client(TestPlatform node) {
        return Mqtt3Client.builder().identifier(device.id()).serverHost("127.0.0.1").serverPort(node.mqttPort())
                .simpleAuth().username(product.id()).password(device.authInfo().getBytes(StandardCharsets.UTF_8))
                .applySimpleAuth().buildBlocking();
    }

}
