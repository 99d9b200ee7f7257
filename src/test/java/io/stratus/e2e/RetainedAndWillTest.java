package io.stratus.e2e;

import static io.stratus.e2e.Clients.next;
import static io.stratus.e2e.Clients.text;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient.Mqtt3Publishes;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Retained messages [MQTT-3.3.1-5..11] and wills [MQTT-3.1.2-8..15]. */
class RetainedAndWillTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct product;

    @BeforeAll
    static void start() {
        product = platform.createProduct("retained");
    }

    /** A device's HiveMQ client, connected with clean session 1. */
    private static Mqtt3BlockingClient connectedHivemq(TestPlatform on, TestProduct p, String title) {
        Mqtt3BlockingClient c = Clients.hivemq(on, Clients.device(on, p, title));
        Clients.connect(c, true);
        return c;
    }

    private static void subscribe(Mqtt3BlockingClient c, String filter, int qos) {
        c.subscribeWith().topicFilter(filter).qos(MqttQos.fromCode(qos)).send();
    }

    // ---- retained --------------------------------------------------------------------------------------

    @ParameterizedTest(name = "retained at QoS {0}, subscription QoS {1} -> delivered at QoS {2}")
    @CsvSource({"2,1,1", "1,0,0", "0,2,0", "2,2,2"})
    void retained_message_is_delivered_on_subscribe_with_retain_flag_MQTT_3_3_1_6(int publishQos, int subscribeQos, int expected)
            throws Exception {
        String topic = "retained/on-subscribe/" + publishQos + subscribeQos;
        Mqtt3BlockingClient pub = connectedHivemq(platform, product, "retain-pub");
        pub.publishWith().topic(topic).qos(MqttQos.fromCode(publishQos)).retain(true).payload("kept".getBytes(UTF_8)).send();
        pub.disconnect();
        Mqtt3BlockingClient sub = Clients.hivemq(platform, Clients.device(platform, product, "retain-sub"));
        try (Mqtt3Publishes received = sub.publishes(MqttGlobalPublishFilter.ALL)) {
            Clients.connect(sub, true);
            subscribe(sub, topic, subscribeQos);

            Mqtt3Publish p = next(received);
            assertThat(p.getTopic().toString()).isEqualTo(topic);
            assertThat(text(p)).isEqualTo("kept");
            assertThat(p.isRetain()).isTrue();
            assertThat(p.getQos().getCode()).isEqualTo(expected);
        } finally {
            sub.disconnect();
        }
    }

    @Test
    void live_delivery_of_a_retained_publish_has_retain_0_MQTT_3_3_1_9() throws Exception {
        String topic = "retained/live";
        Mqtt3BlockingClient sub = Clients.hivemq(platform, Clients.device(platform, product, "live-sub"));
        try (Mqtt3Publishes received = sub.publishes(MqttGlobalPublishFilter.ALL);
             PahoClient pub = PahoClient.connected(platform, Clients.device(platform, product, "live-pub"), true)) {
            Clients.connect(sub, true);
            subscribe(sub, topic, 1);

            pub.client().publish(topic, "now".getBytes(UTF_8), 1, true);

            Mqtt3Publish p = next(received);
            assertThat(text(p)).isEqualTo("now");
            assertThat(p.isRetain()).isFalse();
        } finally {
            sub.disconnect();
        }
    }

    @Test
    void newer_retained_message_replaces_the_older_MQTT_3_3_1_5() throws Exception {
        String topic = "retained/replaced";
        try (PahoClient pub = PahoClient.connected(platform, Clients.device(platform, product, "replace-pub"), true);
             PahoClient sub = PahoClient.connected(platform, Clients.device(platform, product, "replace-sub"), true)) {
            pub.client().publish(topic, "v1".getBytes(UTF_8), 1, true);
            pub.client().publish(topic, "v2".getBytes(UTF_8), 1, true);

            sub.subscribe(topic, 1);
            pub.publish(topic, "live", 1);

            PahoClient.Received r = sub.next();
            assertThat(r.text()).isEqualTo("v2");
            assertThat(r.message().isRetained()).isTrue();
            assertThat(sub.next().text()).isEqualTo("live");
        }
    }

    @Test
    void empty_retained_payload_clears_the_retained_message_MQTT_3_3_1_10() throws Exception {
        String topic = "retained/cleared";
        try (PahoClient pub = PahoClient.connected(platform, Clients.device(platform, product, "clear-pub"), true);
             PahoClient sub = PahoClient.connected(platform, Clients.device(platform, product, "clear-sub"), true)) {
            pub.client().publish(topic, "soon-gone".getBytes(UTF_8), 1, true);
            pub.client().publish(topic, new byte[0], 1, true);

            sub.subscribe(topic, 1);
            pub.publish(topic, "live", 1);

            PahoClient.Received r = sub.next();
            assertThat(r.text()).as("no retained message before the live one").isEqualTo("live");
            assertThat(r.message().isRetained()).isFalse();
        }
    }

    @Test
    void retained_message_survives_a_server_restart(@TempDir Path dir) throws Exception {
        try (TestPlatform own = TestPlatform.start(dir)) {
            TestProduct p = own.createProduct("retained-restart");
            try (PahoClient pub = PahoClient.connected(own, Clients.device(own, p, "restart-pub"), true)) {
                pub.client().publish("retained/restart", "durable".getBytes(UTF_8), 1, true); // acknowledged once stored
            }

            own.restart();

            Mqtt3BlockingClient sub = Clients.hivemq(own, Clients.device(own, p, "restart-sub"));
            try (Mqtt3Publishes received = sub.publishes(MqttGlobalPublishFilter.ALL)) {
                Clients.connect(sub, true);
                subscribe(sub, "retained/restart", 1);

                Mqtt3Publish m = next(received);
                assertThat(text(m)).isEqualTo("durable");
                assertThat(m.isRetain()).isTrue();
                assertThat(m.getQos()).isEqualTo(MqttQos.AT_LEAST_ONCE);
            } finally {
                sub.disconnect();
            }
        }
    }

    @Test
    void wildcard_subscription_receives_every_matching_retained_message() throws Exception {
        Mqtt3BlockingClient pub = connectedHivemq(platform, product, "wild-retain-pub");
        for (String topic : List.of("retained/wild/a/x", "retained/wild/b/x", "retained/wild/b/y", "retained/other/a/x")) {
            pub.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).retain(true).payload(topic.getBytes(UTF_8)).send();
        }
        Mqtt3BlockingClient sub = Clients.hivemq(platform, Clients.device(platform, product, "wild-retain-sub"));
        try (Mqtt3Publishes received = sub.publishes(MqttGlobalPublishFilter.ALL)) {
            Clients.connect(sub, true);

            subscribe(sub, "retained/wild/+/x", 1);
            List<String> plus = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Mqtt3Publish m = next(received);
                assertThat(m.isRetain()).isTrue();
                plus.add(m.getTopic().toString());
            }
            subscribe(sub, "retained/wild/#", 1);
            List<String> hash = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                hash.add(next(received).getTopic().toString());
            }
            pub.publishWith().topic("retained/wild/live").qos(MqttQos.AT_LEAST_ONCE).payload("live".getBytes(UTF_8)).send();

            assertThat(plus).containsExactlyInAnyOrder("retained/wild/a/x", "retained/wild/b/x");
            assertThat(hash).containsExactlyInAnyOrder("retained/wild/a/x", "retained/wild/b/x", "retained/wild/b/y");
            assertThat(text(next(received))).as("nothing else matched").isEqualTo("live");
        } finally {
            sub.disconnect();
            pub.disconnect();
        }
    }

    // ---- will ------------------------------------------------------------------------------------------

    @Test
    void will_is_published_when_the_socket_dies_without_disconnect_MQTT_3_1_2_8() throws Exception {
        String topic = "will/abrupt";
        Mqtt3BlockingClient sub = Clients.hivemq(platform, Clients.device(platform, product, "will-sub"));
        try (Mqtt3Publishes received = sub.publishes(MqttGlobalPublishFilter.ALL)) {
            Clients.connect(sub, true);
            subscribe(sub, topic, 2);
            TestDevice dying = Clients.device(platform, product, "will-dying");
            RawMqtt raw = new RawMqtt(platform.mqttPort());
            assertThat(Clients.connect(raw, Clients.connectWithWill(dying, 30, topic, "gone".getBytes(UTF_8), 1, false))
                    .returnCode()).isZero();

            raw.close(); // no DISCONNECT

            Mqtt3Publish will = next(received);
            assertThat(text(will)).isEqualTo("gone");
            assertThat(will.getQos()).isEqualTo(MqttQos.AT_LEAST_ONCE);
            assertThat(will.isRetain()).isFalse();
        } finally {
            sub.disconnect();
        }
    }

    @Test
    void will_is_published_when_the_server_closes_a_silent_connection_MQTT_3_1_2_8() throws Exception {
        String topic = "will/keep-alive";
        try (PahoClient sub = PahoClient.connected(platform, Clients.device(platform, product, "will-ka-sub"), true);
             RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            sub.subscribe(topic, 1);
            TestDevice silent = Clients.device(platform, product, "will-ka-silent");

            assertThat(Clients.connect(raw, Clients.connectWithWill(silent, 1, topic, "timed-out".getBytes(UTF_8), 0, false))
                    .returnCode()).isZero();

            assertThat(raw.closedWithin(4000)).isTrue();
            assertThat(sub.next().text()).isEqualTo("timed-out");
        }
    }

    @Test
    void retained_will_is_kept_for_later_subscribers_MQTT_3_1_2_17() throws Exception {
        String topic = "will/retained";
        try (PahoClient live = PahoClient.connected(platform, Clients.device(platform, product, "will-retained-live"), true)) {
            live.subscribe(topic, 1);
            TestDevice dying = Clients.device(platform, product, "will-retained");
            RawMqtt raw = new RawMqtt(platform.mqttPort());
            assertThat(Clients.connect(raw, Clients.connectWithWill(dying, 30, topic, "last-words".getBytes(UTF_8), 1, true))
                    .returnCode()).isZero();
            raw.close();
            assertThat(live.next().text()).isEqualTo("last-words"); // the will is out, so it is retained by now
        }

        try (PahoClient later = PahoClient.connected(platform, Clients.device(platform, product, "will-retained-later"), true)) {
            later.subscribe(topic, 1);

            PahoClient.Received r = later.next();
            assertThat(r.text()).isEqualTo("last-words");
            assertThat(r.message().isRetained()).isTrue();
        }
    }

    @Test
    void will_is_not_published_after_disconnect_MQTT_3_14_4_3() throws Exception {
        String topic = "will/clean";
        try (PahoClient sub = PahoClient.connected(platform, Clients.device(platform, product, "clean-will-sub"), true)) {
            sub.subscribe(topic, 1);
            TestDevice leaving = Clients.device(platform, product, "clean-will-paho");
            try (PahoClient paho = new PahoClient(platform, leaving.id())) {
                MqttConnectOptions options = Clients.pahoOptions(leaving, true);
                options.setWill(topic, "paho-will".getBytes(UTF_8), 1, false);
                paho.connect(options);
                paho.client().disconnect();
            }
            TestDevice raw = Clients.device(platform, product, "clean-will-raw");
            try (RawMqtt r = new RawMqtt(platform.mqttPort())) {
                Clients.connect(r, Clients.connectWithWill(raw, 30, topic, "raw-will".getBytes(UTF_8), 1, false));
                r.sendHex("E0 00");
                assertThat(r.closedWithin(5000)).isTrue();
            }

            try (PahoClient other = PahoClient.connected(platform, Clients.device(platform, product, "clean-will-pub"), true)) {
                other.publish(topic, "after", 1);
            }
            assertThat(sub.next().text()).as("no will before this message").isEqualTo("after");
        }
    }
}
