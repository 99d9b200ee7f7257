package io.stratus.e2e;

import static io.stratus.e2e.Clients.PUBACK;
import static io.stratus.e2e.Clients.ack;
import static io.stratus.e2e.Clients.next;
import static io.stratus.e2e.Clients.readPublish;
import static io.stratus.e2e.RetainedLimitTest.payload;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient.Mqtt3Publishes;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.e2e.Clients.ConnAck;
import io.stratus.e2e.Clients.Publish;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QoS 1/2 messages owed to sessions are bounded in count and bytes per session ({@code session.max-queued},
 * {@code session.max-queued-bytes}) and per product ({@code product.max-queued}, {@code product.max-queued-bytes}),
 * the oldest giving way (D18, docs/decisions.md); a persistent session's stored payloads leave the heap and are read
 * back from the store in order when due, also after a restart.
 */
class QueueLimitTest {
    @TempDir
    Path dataDir;

    @Test
    void an_offline_session_keeps_the_newest_messages_within_session_max_queued_bytes_D18() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir, Map.of("session.max-queued-bytes", "10000"))) {
            TestProduct product = platform.createProduct("queue-bytes");
            TestDevice subscriber = Clients.device(platform, product, "subscriber");
            subscribeThenLeave(platform, subscriber, "q/#");

            publishQos1(platform, Clients.device(platform, product, "publisher"), "q/t", 5, 4000);

            // 4000-byte messages: two fit in 10000 bytes, a third would not; the three oldest gave way.
            List<byte[]> received = reconnectAndReceive(platform, subscriber, 2);
            assertThat(received.get(0)).isEqualTo(payload(4, 4000));
            assertThat(received.get(1)).isEqualTo(payload(5, 4000));
            assertThat(MonitoringTest.metric(platform, "stratus_mqtt_messages_dropped_total")).isEqualTo(3);
        }
    }

    @Test
    void the_queues_of_a_product_share_product_max_queued_and_other_products_keep_theirs() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir, Map.of("product.max-queued", "3"))) {
            TestProduct product = platform.createProduct("queue-product");
            TestDevice first = Clients.device(platform, product, "first");
            TestDevice second = Clients.device(platform, product, "second");
            subscribeThenLeave(platform, first, "p/#");
            subscribeThenLeave(platform, second, "p/#");
            TestProduct other = platform.createProduct("queue-other");
            TestDevice otherSubscriber = Clients.device(platform, other, "subscriber");
            subscribeThenLeave(platform, otherSubscriber, "p/#");

            publishQos1(platform, Clients.device(platform, product, "publisher"), "p/t", 4, 10);
            publishQos1(platform, Clients.device(platform, other, "publisher"), "p/t", 3, 10);

            await().atMost(5, SECONDS).untilAsserted(() ->
                    assertThat(MonitoringTest.metric(platform, "stratus_mqtt_queued_messages")).isEqualTo(3 + 3));
            assertThat(MonitoringTest.metric(platform, "stratus_mqtt_product_queue_full_total")).isPositive();
            int firstCount = reconnectAndCount(platform, first);
            int secondCount = reconnectAndCount(platform, second);
            assertThat(firstCount + secondCount).as("queued over both sessions of the product").isEqualTo(3);
            assertThat(reconnectAndReceive(platform, otherSubscriber, 3)).as("the other product's session keeps all three").hasSize(3);
        }
    }

    @Test
    void stored_payloads_of_an_offline_session_leave_the_heap_and_come_back_in_order() throws Exception {
        // A small window, so that the 20 messages come back from the store in several reads.
        try (TestPlatform platform = TestPlatform.start(dataDir, Map.of("mqtt.max-inflight", "3",
                "mqtt.max-inflight-bytes", "20000"))) {
            TestProduct product = platform.createProduct("queue-heap");
            TestDevice subscriber = Clients.device(platform, product, "subscriber");
            subscribeThenLeave(platform, subscriber, "h/#");

            publishQos1(platform, Clients.device(platform, product, "publisher"), "h/t", 20, 10_000);

            await().atMost(5, SECONDS).untilAsserted(() -> {
                assertThat(MonitoringTest.metric(platform, "stratus_mqtt_queued_messages")).isEqualTo(20);
                assertThat(MonitoringTest.metric(platform, "stratus_mqtt_queued_bytes")).isEqualTo(200_000);
                assertThat(MonitoringTest.metric(platform, "stratus_mqtt_queued_heap_bytes")).as("payloads in heap").isZero();
            });
            List<byte[]> received = reconnectAndReceive(platform, subscriber, 20);
            for (int i = 0; i < 20; i++) {
                assertThat(received.get(i)).as("message %d in order", i + 1).isEqualTo(payload(i + 1, 10_000));
            }
            await().atMost(5, SECONDS).untilAsserted(() -> {
                assertThat(MonitoringTest.metric(platform, "stratus_mqtt_queued_messages")).isZero();
                assertThat(MonitoringTest.metric(platform, "stratus_mqtt_queued_heap_bytes")).isZero();
            });
        }
    }

    @Test
    void a_connected_persistent_session_that_lags_keeps_one_window_in_heap_and_gets_all_in_order() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir, Map.of("mqtt.max-inflight", "2",
                "mqtt.max-inflight-bytes", "25000"))) {
            TestProduct product = platform.createProduct("queue-lag");
            TestDevice subscriber = Clients.device(platform, product, "subscriber");
            try (RawMqtt sub = Clients.raw(platform, subscriber, false, 30)) {
                assertThat(Clients.subscribe(sub, 1, "l/#", 1)).isEqualTo(1);
                publishQos1(platform, Clients.device(platform, product, "publisher"), "l/t", 30, 10_000);

                // Two in flight, 28 queued: only the head of the queue (one window) keeps its payload in heap.
                await().atMost(5, SECONDS).untilAsserted(() -> {
                    assertThat(MonitoringTest.metric(platform, "stratus_mqtt_queued_messages")).isEqualTo(28);
                    assertThat(MonitoringTest.metric(platform, "stratus_mqtt_queued_heap_bytes")).isLessThanOrEqualTo(30_000);
                });
                for (int i = 1; i <= 30; i++) {
                    Publish p = readPublish(sub);
                    assertThat(p.payload()).as("message %d in order", i).isEqualTo(payload(i, 10_000));
                    sub.send(ack(PUBACK, p.packetId()));
                }
                Clients.ping(sub);
            }
            await().atMost(5, SECONDS).untilAsserted(() ->
                    assertThat(MonitoringTest.metric(platform, "stratus_mqtt_queued_heap_bytes")).isZero());
        }
    }

    @Test
    void an_unacknowledged_message_is_resent_from_the_store_with_dup_and_its_packet_id_MQTT_4_4_0_1() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            TestProduct product = platform.createProduct("queue-resend");
            TestDevice subscriber = Clients.device(platform, product, "subscriber");
            TestDevice publisher = Clients.device(platform, product, "publisher");
            Publish first;
            try (RawMqtt sub = Clients.raw(platform, subscriber, false, 30)) {
                assertThat(Clients.subscribe(sub, 1, "r/#", 1)).isEqualTo(1);
                publishQos1(platform, publisher, "r/t", 1, 50_000);
                first = readPublish(sub);
                assertThat(first.payload()).isEqualTo(payload(1, 50_000));
            } // dropped without PUBACK
            await().atMost(5, SECONDS).untilAsserted(() ->
                    assertThat(MonitoringTest.metric(platform, "stratus_mqtt_queued_heap_bytes")).as("payloads in heap").isZero());

            try (RawMqtt sub = new RawMqtt(platform.mqttPort())) {
                ConnAck connAck = Clients.connect(sub, RawMqtt.connectPacket(4, subscriber.id(), subscriber.productId(),
                        subscriber.authInfo(), 30, false));
                assertThat(connAck.sessionPresent()).isTrue();
                Publish again = readPublish(sub);
                assertThat(again.dup()).isTrue();
                assertThat(again.packetId()).isEqualTo(first.packetId());
                assertThat(again.payload()).isEqualTo(payload(1, 50_000));
                sub.send(ack(PUBACK, again.packetId()));
                Clients.ping(sub);
            }
        }
    }

    @Test
    void a_restart_reads_no_queued_payload_and_the_session_still_gets_them_in_order() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            TestProduct product = platform.createProduct("queue-restart");
            TestDevice subscriber = Clients.device(platform, product, "subscriber");
            subscribeThenLeave(platform, subscriber, "s/#");
            publishQos1(platform, Clients.device(platform, product, "publisher"), "s/t", 10, 100_000);

            platform.restart();

            assertThat(MonitoringTest.metric(platform, "stratus_mqtt_queued_messages")).isEqualTo(10);
            assertThat(MonitoringTest.metric(platform, "stratus_mqtt_queued_bytes")).isEqualTo(1_000_000);
            assertThat(MonitoringTest.metric(platform, "stratus_mqtt_queued_heap_bytes")).isZero();
            List<byte[]> received = reconnectAndReceive(platform, subscriber, 10);
            for (int i = 0; i < 10; i++) {
                assertThat(received.get(i)).as("message %d", i + 1).isEqualTo(payload(i + 1, 100_000));
            }
        }
    }

    @Test
    void a_restart_applies_the_limits_to_what_the_store_holds() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            TestProduct product = platform.createProduct("queue-shrink");
            TestDevice subscriber = Clients.device(platform, product, "subscriber");
            subscribeThenLeave(platform, subscriber, "k/#");
            publishQos1(platform, Clients.device(platform, product, "publisher"), "k/t", 6, 1000);

            platform.restart(Map.of("session.max-queued", "4", "session.max-queued-bytes", "2500"));

            assertThat(MonitoringTest.metric(platform, "stratus_mqtt_queued_messages")).isEqualTo(2);
            platform.restart(Map.of("session.max-queued", "1000", "session.max-queued-bytes", "8388608"));
            assertThat(MonitoringTest.metric(platform, "stratus_mqtt_queued_messages")).as("the dropped rows are gone").isEqualTo(2);
            List<byte[]> received = reconnectAndReceive(platform, subscriber, 2);
            assertThat(received.get(0)).isEqualTo(payload(5, 1000));
            assertThat(received.get(1)).isEqualTo(payload(6, 1000));
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------

    /** A persistent session subscribed to {@code filter} at QoS 1, then offline. */
    private static void subscribeThenLeave(TestPlatform platform, TestDevice device, String filter) {
        Mqtt3BlockingClient c = Clients.hivemq(platform, device);
        Clients.connect(c, false);
        c.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send();
        c.disconnect();
    }

    /** {@code count} QoS 1 messages of {@code size} bytes ({@link RetainedLimitTest#payload} 1, 2, ...), each acknowledged. */
    private static void publishQos1(TestPlatform platform, TestDevice publisher, String topic, int count, int size) throws Exception {
        try (RawMqtt raw = Clients.raw(platform, publisher, true, 30)) {
            for (int i = 1; i <= count; i++) {
                raw.send(RawMqtt.publishPacket(topic, 1, i, payload(i, size)));
                Clients.expectAck(raw, PUBACK, i);
            }
        }
    }

    /** Resumes the session and returns its next {@code count} messages' payloads, then checks nothing else is owed. */
    private static List<byte[]> reconnectAndReceive(TestPlatform platform, TestDevice device, int count) throws Exception {
        Mqtt3BlockingClient c = Clients.hivemq(platform, device);
        List<byte[]> out = new ArrayList<>();
        try (Mqtt3Publishes received = c.publishes(MqttGlobalPublishFilter.ALL)) {
            assertThat(Clients.connect(c, false).isSessionPresent()).isTrue();
            for (int i = 0; i < count; i++) {
                out.add(next(received).getPayloadAsBytes());
            }
            String probe = "probe/" + device.id();
            c.subscribeWith().topicFilter(probe).qos(MqttQos.AT_LEAST_ONCE).send();
            c.publishWith().topic(probe).qos(MqttQos.AT_LEAST_ONCE).payload(new byte[] {1}).send();
            Mqtt3Publish after = next(received);
            assertThat(after.getTopic().toString()).as("nothing more was queued").isEqualTo(probe);
        } finally {
            c.disconnect();
        }
        return out;
    }

    /** Resumes the session and counts what it was owed (up to the probe published after it). */
    /**
     * Reconnects and counts what the session was owed: messages until none comes for a second. Not with a probe message
     * after them: in a product whose queues are full, one more QoS 1 message makes the oldest give way, and a message
     * still being read back from the store is the oldest.
     */
    private static int reconnectAndCount(TestPlatform platform, TestDevice device) throws Exception {
        Mqtt3BlockingClient c = Clients.hivemq(platform, device);
        int n = 0;
        try (Mqtt3Publishes received = c.publishes(MqttGlobalPublishFilter.ALL)) {
            Clients.connect(c, false);
            while (received.receive(1, SECONDS).isPresent()) {
                n++;
            }
        } finally {
            c.disconnect();
        }
        return n;
    }
}
