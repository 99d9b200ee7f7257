package io.stratus.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.sun.net.httpserver.HttpServer;
import io.stratus.api.EventsApiTest.Event;
import io.stratus.api.EventsApiTest.EventReader;
import io.stratus.cluster.NatsServer;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import io.stratus.store.PostgresServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code /events} data point events across two nodes: points stored on node 1 reach node 2's streams of their product,
 * once, and no other product's; the point is stored once and its trigger fires once.
 */
class ClusterEventsTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** {@code hook.deny-networks} without loopback, where the trigger receiver listens. */
    private static final String ALLOW_LOOPBACK = "0.0.0.0/8,10.0.0.0/8,100.64.0.0/10,169.254.0.0/16,172.16.0.0/12,"
            + "192.168.0.0/16,::/128,fc00::/7,fe80::/10";

    private NatsServer nats;
    private TestPlatform node1;
    private TestPlatform node2;
    private HttpServer receiver;
    private final AtomicInteger triggerPosts = new AtomicInteger();

    @AfterEach
    void stop() {
        for (TestPlatform node : new TestPlatform[] {node2, node1}) {
            if (node != null) {
                node.close();
            }
        }
        if (nats != null) {
            nats.close();
        }
        if (receiver != null) {
            receiver.stop(0);
        }
    }

    @Test
    void points_stored_on_one_node_reach_the_other_nodes_events_of_their_product_only_and_fire_their_trigger_once()
            throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", exchange -> {
            exchange.getRequestBody().readAllBytes();
            triggerPosts.incrementAndGet();
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        receiver.start();
        nats = NatsServer.start();
        String store = PostgresServer.get().createDatabase();
        node1 = TestPlatform.start(Files.createTempDirectory("stratus-node1"), settings(store, "node1"));
        TestProduct product = node1.createProduct("events");
        TestProduct other = node1.createProduct("other");
        TestDevice device = node1.createDevice(product, "d", "sn-events");
        TestDevice stranger = node1.createDevice(other, "s", "sn-other");
        Reply trigger = node1.withKey(product.masterKey(), "POST", "/triggers", Map.of("title", "any temp", "ds_id", "temp",
                "type", ">", "threshold", -1000, "url", "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook"));
        assertThat(trigger.errno()).as(trigger.body().toString()).isZero();
        // Started after the trigger exists, so that node 2 knows it too and would fire it if it took the points as its own.
        node2 = TestPlatform.start(Files.createTempDirectory("stratus-node2"), settings(store, "node2"));

        try (EventReader there = events(node2, product); EventReader otherThere = events(node2, other);
             EventReader here = events(node1, product)) {
            Mqtt3BlockingClient c = Mqtt3Client.builder().identifier(device.id()).serverHost("127.0.0.1")
                    .serverPort(node1.mqttPort()).simpleAuth().username(product.id())
                    .password(device.authInfo().getBytes(UTF_8)).applySimpleAuth().buildBlocking();
            c.connectWith().cleanSession(true).send();
            byte[] json = "{\"temp\":21.5,\"label\":\"中 \\\"x\\\"\"}".getBytes(UTF_8);
            byte[] dp = new byte[3 + json.length];
            dp[0] = 3; // type 3: {"stream": value, ...}
            dp[1] = (byte) (json.length >> 8);
            dp[2] = (byte) json.length;
            System.arraycopy(json, 0, dp, 3, json.length);
            c.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE).payload(dp).send();
            Reply upload = node1.withKey(other.masterKey(), "POST", "/devices/" + stranger.id() + "/datapoints",
                    "{\"datastreams\":[{\"id\":\"temp\",\"datapoints\":[{\"value\":99}]}]}");
            assertThat(upload.errno()).as(upload.body().toString()).isZero();

            await().atMost(5, SECONDS).until(() -> points(there).size() == 2 && points(here).size() == 2);
            await().during(500, MILLISECONDS).atMost(2, SECONDS).until(() -> points(there).size() == 2);
            JsonNode temp = point(there, "temp");
            assertThat(temp.path("device").asText()).isEqualTo(device.id());
            assertThat(temp.path("product").asText()).isEqualTo(product.id());
            assertThat(temp.path("value").decimalValue()).isEqualByComparingTo("21.5");
            assertThat(temp.path("at").asText()).isEqualTo(point(here, "temp").path("at").asText());
            assertThat(point(there, "label").path("value").asText()).isEqualTo("中 \"x\"");
            assertThat(points(here)).as("node 1's own stream, once each").hasSize(2);
            assertThat(points(otherThere)).as("another product's stream on node 2").hasSize(1)
                    .allSatisfy(p -> assertThat(p.path("device").asText()).isEqualTo(stranger.id()));
            c.disconnect();
        }

        Reply history = node2.withKey(product.masterKey(), "GET",
                "/devices/" + device.id() + "/datapoints?datastream_id=temp&start=2000-01-01T00:00:00", null);
        assertThat(history.data().path("count").asInt()).as(history.body().toString()).isEqualTo(1);
        await().atMost(5, SECONDS).until(() -> triggerPosts.get() >= 1);
        await().during(500, MILLISECONDS).atMost(2, SECONDS).until(() -> triggerPosts.get() == 1);
        assertThat(node1.metric("stratus_cluster_events_sent_total")).isEqualTo(2); // a $dp and an upload
        assertThat(node2.metric("stratus_cluster_events_received_total")).isEqualTo(2);
        assertThat(node1.metric("stratus_cluster_events_received_total")).isZero();
        assertThat(node2.metric("stratus_cluster_events_dropped_total")).isZero();
    }

    private Map<String, String> settings(String store, String name) {
        return Map.of("store.url", store, "cluster.nats-url", nats.url(), "cluster.node-name", name,
                "hook.deny-networks", ALLOW_LOOPBACK);
    }

    private static EventReader events(TestPlatform node, TestProduct product) throws Exception {
        return new EventReader(HTTP.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + node.platform().httpPort() + "/events?product_id=" + product.id()))
                .header("Accept", "text/event-stream").header("api-key", product.masterKey()).build(),
                HttpResponse.BodyHandlers.ofInputStream()).body());
    }

    private static List<JsonNode> points(EventReader events) {
        return events.events.stream().filter(e -> e.name().equals("datapoint")).map(Event::data).toList();
    }

    private static JsonNode point(EventReader events, String stream) {
        return points(events).stream().filter(p -> p.path("stream").asText().equals(stream)).findFirst().orElseThrow();
    }
}
