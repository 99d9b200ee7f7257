package io.stratus.e2e;

import static io.stratus.e2e.Clients.PUBACK;
import static io.stratus.e2e.Clients.expectAck;
import static io.stratus.e2e.Clients.next;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.awaitility.Awaitility.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient.Mqtt3Publishes;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retained messages are bounded per product ({@code retained.max-per-product}, {@code retained.max-bytes-per-product}):
 * a retained QoS 1 publish over the budget gets no PUBACK and its connection is closed [MQTT-3.3.1-5], a QoS 0 one is
 * routed to the subscribers of now and not retained [MQTT-3.3.1-7]; what was retained before is still delivered, and
 * other products are unaffected. Large payloads stay in the store: a restart reads none of them.
 */
class RetainedLimitTest {
    private static final int MAX_BYTES = 64 * 1024;
    private static final int MAX_COUNT = 4;

    @TempDir
    static Path dataDir;
    static TestPlatform platform;

    @RegisterExtension
    final LogCapture log = LogCapture.mqttConnection();

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(dataDir, Map.of("retained.max-bytes-per-product", String.valueOf(MAX_BYTES),
                "retained.max-per-product", String.valueOf(MAX_COUNT)));
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    void retained_qos1_over_the_product_bytes_is_refused_and_the_earlier_ones_still_delivered_MQTT_3_3_1_5() throws Exception {
        TestProduct product = platform.createProduct("retained-bytes");
        TestDevice publisher = Clients.device(platform, product, "publisher");
        long refusedBefore = MonitoringTest.metric(platform, "stratus_mqtt_retained_refused_total");
        try (RawMqtt raw = Clients.raw(platform, publisher, true, 30)) {
            for (int i = 1; i <= 3; i++) {
                raw.send(retainedPublish("big/" + i, 1, i, payload(i, 20 * 1024)));
                expectAck(raw, PUBACK, i);
            }
            // 60 KiB retained: 20 KiB more would make 80 KiB, over 64 KiB.
            raw.send(retainedPublish("big/4", 1, 4, payload(4, 20 * 1024)));

            assertThat(raw.packetsUntilClosed(5000)).as("no PUBACK, then closed").isEmpty();
        }
        log.await("[" + publisher.id() + "] ", "closed: publish to big/4 failed: retained messages of product "
                + product.id() + " would take 81920 bytes, over retained.max-bytes-per-product (65536)");
        assertThat(MonitoringTest.metric(platform, "stratus_mqtt_retained_refused_total")).isEqualTo(refusedBefore + 1);

        // Replacing a retained message counts its new size instead of the old one: 40 + 24 = 64 KiB fits exactly.
        try (RawMqtt raw = Clients.raw(platform, publisher, true, 30)) {
            raw.send(retainedPublish("big/1", 1, 9, payload(9, 24 * 1024)));
            expectAck(raw, PUBACK, 9);
        }

        Map<String, byte[]> retained = receiveRetained(product, "big/#", 3);
        assertThat(retained.keySet()).containsExactlyInAnyOrder("big/1", "big/2", "big/3");
        assertThat(retained.get("big/1")).isEqualTo(payload(9, 24 * 1024));
        assertThat(retained.get("big/2")).isEqualTo(payload(2, 20 * 1024));
        assertThat(retained.get("big/3")).isEqualTo(payload(3, 20 * 1024));
    }

    @Test
    void retained_qos0_over_the_product_count_is_routed_but_not_retained_MQTT_3_3_1_7() throws Exception {
        TestProduct product = platform.createProduct("retained-count");
        TestDevice publisher = Clients.device(platform, product, "publisher");
        TestDevice watcher = Clients.device(platform, product, "watcher");
        Mqtt3BlockingClient live = Clients.hivemq(platform, watcher);
        Clients.connect(live, true);
        try (Mqtt3Publishes received = live.publishes(MqttGlobalPublishFilter.ALL)) {
            live.subscribeWith().topicFilter("count/#").qos(MqttQos.AT_LEAST_ONCE).send();
            try (RawMqtt raw = Clients.raw(platform, publisher, true, 30)) {
                for (int i = 1; i <= MAX_COUNT + 1; i++) {
                    raw.send(retainedPublish("count/" + i, 0, 0, ("v" + i).getBytes(UTF_8)));
                }
                // Each reaches the subscriber of now, the fifth too, and the publisher stays connected.
                for (int i = 1; i <= MAX_COUNT + 1; i++) {
                    Mqtt3Publish p = next(received);
                    assertThat(p.getTopic().toString()).isEqualTo("count/" + i);
                    assertThat(Clients.text(p)).isEqualTo("v" + i);
                }
                Clients.ping(raw);
            }
        } finally {
            live.disconnect();
        }

        Map<String, byte[]> retained = receiveRetained(product, "count/#", MAX_COUNT);
        assertThat(retained.keySet()).containsExactlyInAnyOrder("count/1", "count/2", "count/3", "count/4");
    }

    @Test
    void a_product_at_its_retained_limit_leaves_other_products_their_own() throws Exception {
        TestProduct full = platform.createProduct("retained-full");
        TestDevice hog = Clients.device(platform, full, "hog");
        try (RawMqtt raw = Clients.raw(platform, hog, true, 30)) {
            raw.send(retainedPublish("hog/1", 1, 1, payload(1, MAX_BYTES)));
            expectAck(raw, PUBACK, 1);
            raw.send(retainedPublish("hog/2", 1, 2, payload(2, 1)));
            assertThat(raw.packetsUntilClosed(5000)).isEmpty();
        }

        TestProduct other = platform.createProduct("retained-other");
        TestDevice device = Clients.device(platform, other, "device");
        try (RawMqtt raw = Clients.raw(platform, device, true, 30)) {
            raw.send(retainedPublish("mine/1", 1, 1, payload(3, MAX_BYTES)));
            expectAck(raw, PUBACK, 1);
        }
        assertThat(receiveRetained(other, "mine/#", 1)).containsOnlyKeys("mine/1");
    }

    @Test
    void a_restart_reads_no_large_retained_payload_and_still_delivers_them(@TempDir Path restartDir) throws Exception {
        try (TestPlatform server = TestPlatform.start(restartDir)) {
            TestProduct product = server.createProduct("retained-restart");
            TestDevice publisher = Clients.device(server, product, "publisher");
            try (RawMqtt raw = Clients.raw(server, publisher, true, 30)) {
                for (int i = 1; i <= 10; i++) {
                    raw.send(retainedPublish("large/" + i, 1, i, payload(i, 100 * 1024)));
                    expectAck(raw, PUBACK, i);
                }
                raw.send(retainedPublish("small/1", 1, 11, "on".getBytes(UTF_8)));
                expectAck(raw, PUBACK, 11);
            }

            server.restart();

            assertThat(MonitoringTest.metric(server, "stratus_mqtt_retained_messages")).isEqualTo(11);
            assertThat(MonitoringTest.metric(server, "stratus_mqtt_retained_bytes")).isEqualTo(10 * 100 * 1024 + 2);
            assertThat(MonitoringTest.metric(server, "stratus_mqtt_retained_heap_bytes")).as("only the small one in heap").isEqualTo(2);
            Map<String, byte[]> retained = receiveRetained(server, product, "#", 11);
            for (int i = 1; i <= 10; i++) {
                assertThat(retained.get("large/" + i)).as("large/" + i).isEqualTo(payload(i, 100 * 1024));
            }
            assertThat(retained.get("small/1")).isEqualTo("on".getBytes(UTF_8));
        }
    }

    @Test
    void large_retained_messages_go_to_a_qos1_subscriber_at_its_pace(@TempDir Path paceDir) throws Exception {
        try (TestPlatform server = TestPlatform.start(paceDir, Map.of("mqtt.max-inflight-bytes", "100000"))) {
            TestProduct product = server.createProduct("retained-pace");
            TestDevice publisher = Clients.device(server, product, "publisher");
            try (RawMqtt raw = Clients.raw(server, publisher, true, 30)) {
                for (int i = 1; i <= 10; i++) {
                    raw.send(retainedPublish("pace/" + i, 1, i, payload(i, 60_000)));
                    expectAck(raw, PUBACK, i);
                }
            }
            TestDevice reader = Clients.device(server, product, "reader");
            try (RawMqtt sub = Clients.raw(server, reader, true, 30)) {
                assertThat(Clients.subscribe(sub, 1, "pace/#", 1)).isEqualTo(1);
                Clients.Publish first = Clients.readPublish(sub);

                // Not acknowledged: two in flight (100,000 bytes of window), at most two queued behind them; the other
                // six wait in the store, not in the heap.
                await().atMost(5, SECONDS).untilAsserted(() ->
                        assertThat(MonitoringTest.metric(server, "stratus_mqtt_queued_messages")).isEqualTo(2));
                assertThat(MonitoringTest.metric(server, "stratus_mqtt_queued_heap_bytes")).isLessThanOrEqualTo(120_000);

                java.util.Set<String> topics = new java.util.HashSet<>(java.util.List.of(first.topic()));
                sub.send(Clients.ack(PUBACK, first.packetId()));
                while (topics.size() < 10) {
                    Clients.Publish p = Clients.readPublish(sub);
                    int n = Integer.parseInt(p.topic().substring("pace/".length()));
                    assertThat(p.payload()).as(p.topic()).isEqualTo(payload(n, 60_000));
                    topics.add(p.topic());
                    sub.send(Clients.ack(PUBACK, p.packetId()));
                }
                Clients.ping(sub);
            }
        }
    }

    /** The retained messages a new subscriber of {@code filter} receives: exactly {@code count}, each flagged retained. */
    private static Map<String, byte[]> receiveRetained(TestProduct product, String filter, int count) throws Exception {
        return receiveRetained(platform, product, filter, count);
    }

    private static Map<String, byte[]> receiveRetained(TestPlatform server, TestProduct product, String filter, int count)
            throws Exception {
        TestDevice reader = Clients.device(server, product, "reader");
        Mqtt3BlockingClient client = Clients.hivemq(server, reader);
        Clients.connect(client, true);
        Map<String, byte[]> out = new HashMap<>();
        try (Mqtt3Publishes received = client.publishes(MqttGlobalPublishFilter.ALL)) {
            client.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send();
            for (int i = 0; i < count; i++) {
                Mqtt3Publish p = next(received);
                assertThat(p.isRetain()).as("retain flag of " + p.getTopic()).isTrue();
                out.put(p.getTopic().toString(), p.getPayloadAsBytes());
            }
            // A further retained message would come before a probe subscribed to and published now.
            String probe = "probe/" + reader.id();
            client.subscribeWith().topicFilter(probe).qos(MqttQos.AT_LEAST_ONCE).send();
            client.publishWith().topic(probe).qos(MqttQos.AT_LEAST_ONCE).payload(new byte[] {1}).send();
            assertThat(next(received).getTopic().toString()).as("no further retained message").isEqualTo(probe);
        } finally {
            client.disconnect();
        }
        return out;
    }

    /** A retained PUBLISH (the RETAIN bit set). */
    static byte[] retainedPublish(String topic, int qos, int packetId, byte[] payload) {
        byte[] packet = RawMqtt.publishPacket(topic, qos, packetId, payload);
        packet[0] |= 0x01;
        return packet;
    }

    /** {@code size} bytes that differ by {@code seed}. */
    static byte[] payload(int seed, int size) {
        byte[] b = new byte[size];
        Arrays.fill(b, (byte) seed);
        for (int i = 0; i < size; i += 997) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

}
