package io.stratus.e2e;

import static io.stratus.e2e.Clients.PUBACK;
import static io.stratus.e2e.Clients.UNSUBACK;
import static io.stratus.e2e.Clients.expectAck;
import static io.stratus.e2e.Clients.next;
import static io.stratus.e2e.Clients.ping;
import static io.stratus.e2e.Clients.text;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient.Mqtt3Publishes;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3SubAckException;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.suback.Mqtt3SubAckReturnCode;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Wildcards and overlapping subscriptions (D10, docs/decisions.md), subscription limits (D8), product isolation,
 * {@code $} topics (D9).
 */
class TopicRulesTest {
    /** A valid type-3 {@code $dp} payload: {"temperature":22.5} (protocol §3.3). */
    private static final byte[] DP_PAYLOAD = concat(HexFormat.of().parseHex("030014"), "{\"temperature\":22.5}".getBytes(UTF_8));

    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct productA;
    static TestProduct productB;

    @BeforeAll
    static void start() {
        productA = platform.createProduct("topics-a");
        productB = platform.createProduct("topics-b");
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static Mqtt3BlockingClient connectedHivemq(TestProduct p, String title) {
        Mqtt3BlockingClient c = Clients.hivemq(platform, Clients.device(platform, p, title));
        Clients.connect(c, true);
        return c;
    }

    private static void subscribe(Mqtt3BlockingClient c, String filter, int qos) {
        c.subscribeWith().topicFilter(filter).qos(MqttQos.fromCode(qos)).send();
    }

    // ---- wildcards (D10) -------------------------------------------------------------------------------

    @Test
    void plus_and_hash_filters_receive_exactly_the_matching_topics_MQTT_4_7_1() throws Exception {
        Mqtt3BlockingClient sub = Clients.hivemq(platform, Clients.device(platform, productA, "wild-sub"));
        try (Mqtt3Publishes received = sub.publishes(MqttGlobalPublishFilter.ALL);
             PahoClient pub = PahoClient.connected(platform, Clients.device(platform, productA, "wild-pub"), true)) {
            Clients.connect(sub, true);
            subscribe(sub, "wild/+/temp", 1);
            subscribe(sub, "wild/dev/#", 1);
            subscribe(sub, "wild/end", 1);

            for (String topic : List.of("wild/a/temp", "wild/a/b/temp", "wild//temp", "wild/a/temp/x", "wild/dev",
                    "wild/dev/x/y", "wild/device", "wild/other", "wild/end")) {
                pub.publish(topic, topic, 1);
            }

            List<String> topics = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                topics.add(next(received).getTopic().toString());
            }
            // "x/#" also matches "x" itself [MQTT-4.7.1-2]; "+" matches an empty level [MQTT-4.7.1-3].
            assertThat(topics).containsExactly("wild/a/temp", "wild//temp", "wild/dev", "wild/dev/x/y", "wild/end");
        } finally {
            sub.disconnect();
        }
    }

    @Test
    void overlapping_filters_deliver_one_copy_at_the_highest_granted_qos_MQTT_3_3_5_1() throws Exception {
        Mqtt3BlockingClient sub = Clients.hivemq(platform, Clients.device(platform, productA, "overlap-sub"));
        try (Mqtt3Publishes received = sub.publishes(MqttGlobalPublishFilter.ALL);
             PahoClient pub = PahoClient.connected(platform, Clients.device(platform, productA, "overlap-pub"), true)) {
            Clients.connect(sub, true);
            subscribe(sub, "overlap/+/x", 0);
            subscribe(sub, "overlap/#", 2);
            subscribe(sub, "overlap/a/x", 1);

            pub.publish("overlap/a/x", "once", 2);
            pub.publish("overlap/end", "end", 0);

            Mqtt3Publish p = next(received);
            assertThat(text(p)).isEqualTo("once");
            assertThat(p.getQos()).isEqualTo(MqttQos.EXACTLY_ONCE);
            assertThat(text(next(received))).as("no second copy").isEqualTo("end");
        } finally {
            sub.disconnect();
        }
    }

    @Test
    void unsubscribe_stops_delivery_MQTT_3_10_4_1() throws Exception {
        try (PahoClient sub = PahoClient.connected(platform, Clients.device(platform, productA, "unsub-sub"), true);
             PahoClient pub = PahoClient.connected(platform, Clients.device(platform, productA, "unsub-pub"), true)) {
            sub.subscribe("unsub/+", 1);
            sub.subscribe("unsub/kept", 1);
            pub.publish("unsub/a", "before", 1);
            assertThat(sub.next().text()).isEqualTo("before");

            sub.client().unsubscribe("unsub/+");
            pub.publish("unsub/a", "after", 1);
            pub.publish("unsub/kept", "kept", 1);

            PahoClient.Received r = sub.next();
            assertThat(r.text()).isEqualTo("kept");
            assertThat(r.topic()).isEqualTo("unsub/kept");
        }
    }

    @Test
    void subscription_beyond_the_limit_gets_suback_0x80_D8(@TempDir Path dir) throws Exception {
        try (TestPlatform own = TestPlatform.start(dir, Map.of("mqtt.max-subscriptions", "3"))) {
            TestProduct p = own.createProduct("limits");
            TestDevice device = Clients.device(own, p, "limited");
            try (RawMqtt raw = Clients.raw(own, device, true, 30)) {
                assertThat(Clients.subscribe(raw, 1, "limit/1", 1)).isEqualTo(1);
                assertThat(Clients.subscribe(raw, 2, "limit/2", 1)).isEqualTo(1);
                assertThat(Clients.subscribe(raw, 3, "limit/+", 2)).isEqualTo(2);

                assertThat(Clients.subscribe(raw, 4, "limit/4", 1)).isEqualTo(0x80);
                // Re-subscribing to a filter it has replaces that subscription [MQTT-3.8.4-3]: not a new one.
                assertThat(Clients.subscribe(raw, 5, "limit/1", 0)).isEqualTo(0);

                raw.send(unsubscribePacket(6, "limit/2"));
                expectAck(raw, UNSUBACK, 6);
                assertThat(Clients.subscribe(raw, 7, "limit/4", 1)).as("room again after UNSUBSCRIBE").isEqualTo(1);
                ping(raw);
            }
        }
    }

    private static byte[] unsubscribePacket(int packetId, String filter) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] f = filter.getBytes(UTF_8);
        b.writeBytes(new byte[] {(byte) (packetId >> 8), (byte) packetId, (byte) (f.length >> 8), (byte) f.length});
        b.writeBytes(f);
        return RawMqtt.packet(0xA2, b.toByteArray());
    }

    // ---- product isolation -----------------------------------------------------------------------------

    @Test
    void another_products_device_never_receives_messages_even_with_hash() throws Exception {
        String topic = "isolation/shared";
        Mqtt3BlockingClient outsider = Clients.hivemq(platform, Clients.device(platform, productB, "outsider"));
        try (Mqtt3Publishes outsiderReceived = outsider.publishes(MqttGlobalPublishFilter.ALL);
             PahoClient insider = PahoClient.connected(platform, Clients.device(platform, productA, "insider"), true);
             PahoClient publisherA = PahoClient.connected(platform, Clients.device(platform, productA, "publisher-a"), true);
             PahoClient publisherB = PahoClient.connected(platform, Clients.device(platform, productB, "publisher-b"), true)) {
            Clients.connect(outsider, true);
            subscribe(outsider, "#", 2);
            subscribe(outsider, topic, 2);
            insider.subscribe(topic, 2);

            publisherA.publish(topic, "from-a", 2);
            assertThat(insider.next().text()).as("positive control: same product").isEqualTo("from-a");
            publisherB.publish(topic, "from-b", 1);

            Mqtt3Publish first = next(outsiderReceived);
            assertThat(text(first)).as("product A's message never reaches product B").isEqualTo("from-b");
            publisherA.publish(topic, "a-end", 1);
            assertThat(insider.next().text()).as("nor the other way round").isEqualTo("a-end");
        } finally {
            outsider.disconnect();
        }
    }

    @Test
    void another_products_hash_subscription_gets_no_retained_messages() throws Exception {
        try (PahoClient publisherA = PahoClient.connected(platform, Clients.device(platform, productA, "retainer-a"), true)) {
            publisherA.client().publish("isolation/retained", "a-only".getBytes(UTF_8), 1, true);
        }
        Mqtt3BlockingClient insider = connectedHivemq(productA, "retained-insider");
        Mqtt3BlockingClient outsider = Clients.hivemq(platform, Clients.device(platform, productB, "retained-outsider"));
        try (Mqtt3Publishes insiderReceived = insider.publishes(MqttGlobalPublishFilter.ALL);
             Mqtt3Publishes outsiderReceived = outsider.publishes(MqttGlobalPublishFilter.ALL)) {
            subscribe(insider, "isolation/#", 1);
            assertThat(text(next(insiderReceived))).as("positive control: same product").isEqualTo("a-only");

            Clients.connect(outsider, true);
            subscribe(outsider, "#", 1);
            outsider.publishWith().topic("isolation/b-live").qos(MqttQos.AT_LEAST_ONCE).payload("b-live".getBytes(UTF_8)).send();

            assertThat(text(next(outsiderReceived))).as("no retained message of product A").isEqualTo("b-live");
        } finally {
            insider.disconnect();
            outsider.disconnect();
        }
    }

    // ---- $ topics (D9) ---------------------------------------------------------------------------------

    @Test
    void subscribing_to_system_topics_gets_suback_0x80_and_the_connection_stays_open_D9() throws Exception {
        try (RawMqtt raw = Clients.raw(platform, Clients.device(platform, productA, "dollar-sub"), true, 30)) {
            assertThat(Clients.subscribe(raw, 1, "$dp", 1)).isEqualTo(0x80);
            assertThat(Clients.subscribe(raw, 2, "$SYS/#", 0)).isEqualTo(0x80);
            assertThat(Clients.subscribe(raw, 3, "$crsp/x", 1)).isEqualTo(0x80);
            ping(raw);
        }
    }

    @Test
    void system_filters_fail_alone_in_a_mixed_subscribe_D9() {
        Mqtt3BlockingClient c = connectedHivemq(productA, "dollar-mixed");
        try {
            // The blocking client reports any 0x80 as an exception that carries the whole SUBACK.
            assertThatExceptionOfType(Mqtt3SubAckException.class).isThrownBy(() -> c.subscribeWith()
                    .addSubscription().topicFilter("$dp").qos(MqttQos.AT_LEAST_ONCE).applySubscription()
                    .addSubscription().topicFilter("mixed/ok").qos(MqttQos.AT_LEAST_ONCE).applySubscription()
                    .addSubscription().topicFilter("$SYS/#").qos(MqttQos.AT_MOST_ONCE).applySubscription()
                    .send())
                    .satisfies(e -> assertThat(e.getMqttMessage().getReturnCodes()).containsExactly(
                            Mqtt3SubAckReturnCode.FAILURE, Mqtt3SubAckReturnCode.SUCCESS_MAXIMUM_QOS_1,
                            Mqtt3SubAckReturnCode.FAILURE));

            subscribe(c, "mixed/still-connected", 0);
        } finally {
            c.disconnect();
        }
    }

    @Test
    void hash_does_not_match_system_topics_MQTT_4_7_2_1() throws Exception {
        Mqtt3BlockingClient sub = Clients.hivemq(platform, Clients.device(platform, productA, "dollar-hash"));
        try (Mqtt3Publishes received = sub.publishes(MqttGlobalPublishFilter.ALL);
             PahoClient pub = PahoClient.connected(platform, Clients.device(platform, productA, "dollar-pub"), true)) {
            Clients.connect(sub, true);
            subscribe(sub, "#", 1);
            subscribe(sub, "+/#", 1);

            pub.client().publish("$dp", DP_PAYLOAD, 1, false);
            pub.publish("$crsp/abc", "ok", 1);
            pub.publish("normal/end", "end", 1);

            // A $dp upload may legitimately come back as a data point on /{device_id}/{stream} (D4); never on a $ topic.
            List<String> topics = new ArrayList<>();
            do {
                topics.add(next(received).getTopic().toString());
            } while (!topics.get(topics.size() - 1).equals("normal/end"));
            assertThat(topics).noneMatch(t -> t.startsWith("$"));
        } finally {
            sub.disconnect();
        }
    }

    @Test
    void publish_to_dp_and_crsp_at_qos1_gets_puback_D9() throws Exception {
        try (RawMqtt raw = Clients.raw(platform, Clients.device(platform, productA, "dollar-ack"), true, 30)) {
            raw.send(RawMqtt.publishPacket("$dp", 1, 5, DP_PAYLOAD));
            expectAck(raw, PUBACK, 5);
            raw.send(RawMqtt.publishPacket("$crsp/abc", 1, 6, "done".getBytes(UTF_8)));
            expectAck(raw, PUBACK, 6);
            ping(raw);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"$foo", "$SYS/broker", "$dp/extra", "$creq/abc"})
    void publish_to_another_system_topic_closes_the_connection_D9(String topic) throws Exception {
        try (RawMqtt raw = Clients.raw(platform, Clients.device(platform, productA, "dollar-bad"), true, 30)) {
            raw.send(RawMqtt.publishPacket(topic, 1, 9, "x".getBytes(UTF_8)));

            assertThat(raw.closedWithin(5000)).isTrue();
        }
    }
}
