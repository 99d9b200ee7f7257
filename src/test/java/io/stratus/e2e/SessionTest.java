package io.stratus.e2e;

import static io.stratus.e2e.Clients.PUBACK;
import static io.stratus.e2e.Clients.PUBCOMP;
import static io.stratus.e2e.Clients.PUBREC;
import static io.stratus.e2e.Clients.PUBREL;
import static io.stratus.e2e.Clients.ack;
import static io.stratus.e2e.Clients.expectAck;
import static io.stratus.e2e.Clients.next;
import static io.stratus.e2e.Clients.online;
import static io.stratus.e2e.Clients.ping;
import static io.stratus.e2e.Clients.readPublish;
import static io.stratus.e2e.Clients.text;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient.Mqtt3Publishes;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAck;
import io.stratus.e2e.Clients.ConnAck;
import io.stratus.e2e.Clients.Publish;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.util.Map;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Persistent sessions, redelivery, offline queues, takeover and keep-alive. */
class SessionTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct product;

    @BeforeAll
    static void start() {
        product = platform.createProduct("session");
    }

    private static byte[] connectPacket(TestDevice device, boolean cleanSession) {
        return RawMqtt.connectPacket(4, device.id(), device.productId(), device.authInfo(), 30, cleanSession);
    }

    // ---- redelivery [MQTT-4.4.0-1] ---------------------------------------------------------------------

    @Test
    void unacknowledged_qos1_publish_is_resent_with_dup_and_same_packet_id_MQTT_4_4_0_1() throws Exception {
        TestDevice subscriber = Clients.device(platform, product, "resend1-sub");
        TestDevice publisher = Clients.device(platform, product, "resend1-pub");
        String topic = "session/resend/1";
        try (PahoClient pub = PahoClient.connected(platform, publisher, true)) {
            Publish first;
            try (RawMqtt sub = Clients.raw(platform, subscriber, false, 30)) {
                assertThat(Clients.subscribe(sub, 1, topic, 1)).isEqualTo(1);
                pub.publish(topic, "unacked", 1);
                first = readPublish(sub);
                assertThat(first.qos()).isEqualTo(1);
                assertThat(first.dup()).isFalse();
            } // dropped without PUBACK or DISCONNECT

            try (RawMqtt sub = new RawMqtt(platform.mqttPort())) {
                ConnAck connAck = Clients.connect(sub, connectPacket(subscriber, false));
                assertThat(connAck.returnCode()).isZero();
                assertThat(connAck.sessionPresent()).isTrue();

                Publish again = readPublish(sub);
                assertThat(again.dup()).isTrue();
                assertThat(again.packetId()).isEqualTo(first.packetId());
                assertThat(again.qos()).isEqualTo(1);
                assertThat(again.topic()).isEqualTo(topic);
                assertThat(again.text()).isEqualTo("unacked");
                sub.send(ack(PUBACK, again.packetId()));

                // Acknowledged now: the next message is a new one, not a third copy.
                pub.publish(topic, "next", 1);
                Publish following = readPublish(sub);
                assertThat(following.text()).isEqualTo("next");
                assertThat(following.dup()).isFalse();
                sub.send(ack(PUBACK, following.packetId()));
            }
        }
    }

    @Test
    void qos2_publish_without_pubrec_is_resent_with_dup_and_same_packet_id_MQTT_4_4_0_1() throws Exception {
        TestDevice subscriber = Clients.device(platform, product, "resend2-sub");
        TestDevice publisher = Clients.device(platform, product, "resend2-pub");
        String topic = "session/resend/2";
        try (PahoClient pub = PahoClient.connected(platform, publisher, true)) {
            Publish first;
            try (RawMqtt sub = Clients.raw(platform, subscriber, false, 30)) {
                assertThat(Clients.subscribe(sub, 1, topic, 2)).isEqualTo(2);
                pub.publish(topic, "not-received", 2);
                first = readPublish(sub);
                assertThat(first.qos()).isEqualTo(2);
                assertThat(first.dup()).isFalse();
            }

            try (RawMqtt sub = new RawMqtt(platform.mqttPort())) {
                ConnAck connAck = Clients.connect(sub, connectPacket(subscriber, false));
                assertThat(connAck.sessionPresent()).isTrue();

                Publish again = readPublish(sub);
                assertThat(again.dup()).isTrue();
                assertThat(again.packetId()).isEqualTo(first.packetId());
                assertThat(again.qos()).isEqualTo(2);
                assertThat(again.text()).isEqualTo("not-received");

                sub.send(ack(PUBREC, again.packetId()));
                expectAck(sub, PUBREL, again.packetId());
                sub.send(ack(PUBCOMP, again.packetId()));
            }
        }
    }

    @Test
    void qos2_pubrel_is_resent_when_pubcomp_is_missing_MQTT_4_4_0_1() throws Exception {
        TestDevice subscriber = Clients.device(platform, product, "pubrel-sub");
        TestDevice publisher = Clients.device(platform, product, "pubrel-pub");
        String topic = "session/resend/pubrel";
        try (PahoClient pub = PahoClient.connected(platform, publisher, true)) {
            int packetId;
            try (RawMqtt sub = Clients.raw(platform, subscriber, false, 30)) {
                assertThat(Clients.subscribe(sub, 1, topic, 2)).isEqualTo(2);
                pub.publish(topic, "received", 2);
                packetId = readPublish(sub).packetId();
                sub.send(ack(PUBREC, packetId));
                expectAck(sub, PUBREL, packetId);
            } // dropped without PUBCOMP

            try (RawMqtt sub = new RawMqtt(platform.mqttPort())) {
                assertThat(Clients.connect(sub, connectPacket(subscriber, false)).sessionPresent()).isTrue();

                // The client owns the message already: only the PUBREL comes again, never the PUBLISH [MQTT-4.3.3-1].
                expectAck(sub, PUBREL, packetId);
                sub.send(ack(PUBCOMP, packetId));
                pub.publish(topic, "following", 2);
                Publish following = readPublish(sub);
                assertThat(following.text()).isEqualTo("following");
                assertThat(following.dup()).isFalse();
            }
        }
    }

    // ---- offline queue (D18, D25, docs/decisions.md) ---------------------------------------------------

    @Test
    void offline_qos1_messages_are_delivered_in_order_on_reconnect_MQTT_3_1_2_4() throws Exception {
        TestDevice subscriber = Clients.device(platform, product, "offline-sub");
        TestDevice publisher = Clients.device(platform, product, "offline-pub");
        String topic = "session/offline";
        subscribeAndLeave(platform, subscriber, topic);

        try (PahoClient pub = PahoClient.connected(platform, publisher, true)) {
            for (int i = 0; i < 5; i++) {
                pub.publish(topic, "queued-" + i, 1); // returns after the PUBACK
            }
        }

        Mqtt3BlockingClient sub = Clients.hivemq(platform, subscriber);
        try (Mqtt3Publishes received = sub.publishes(MqttGlobalPublishFilter.ALL)) {
            Mqtt3ConnAck connAck = Clients.connect(sub, false);
            assertThat(connAck.isSessionPresent()).isTrue();
            for (int i = 0; i < 5; i++) {
                assertThat(text(next(received))).isEqualTo("queued-" + i);
            }
        } finally {
            sub.disconnect();
        }
    }

    @Test
    void offline_messages_and_subscriptions_survive_a_server_restart_D25(@TempDir Path dir) throws Exception {
        try (TestPlatform own = TestPlatform.start(dir)) {
            TestProduct p = own.createProduct("restart");
            TestDevice subscriber = Clients.device(own, p, "restart-sub");
            TestDevice publisher = Clients.device(own, p, "restart-pub");
            String topic = "session/restart";
            subscribeAndLeave(own, subscriber, topic);
            try (PahoClient pub = PahoClient.connected(own, publisher, true)) {
                for (int i = 0; i < 3; i++) {
                    pub.publish(topic, "durable-" + i, 1); // acknowledged only once stored (D25)
                }
            }

            own.restart();

            Mqtt3BlockingClient sub = Clients.hivemq(own, subscriber);
            try (Mqtt3Publishes received = sub.publishes(MqttGlobalPublishFilter.ALL);
                 PahoClient pub = PahoClient.connected(own, publisher, true)) {
                assertThat(Clients.connect(sub, false).isSessionPresent()).isTrue();
                for (int i = 0; i < 3; i++) {
                    assertThat(text(next(received))).isEqualTo("durable-" + i);
                }
                // The subscription itself came back too.
                pub.publish(topic, "live", 1);
                assertThat(text(next(received))).isEqualTo("live");
            } finally {
                sub.disconnect();
            }
        }
    }

    @Test
    void acknowledged_messages_are_not_redelivered_after_a_restart_D25(@TempDir Path dir) throws Exception {
        try (TestPlatform own = TestPlatform.start(dir)) {
            TestProduct p = own.createProduct("restart-acked");
            TestDevice subscriber = Clients.device(own, p, "acked-sub");
            TestDevice publisher = Clients.device(own, p, "acked-pub");
            String topic = "session/acked";
            try (PahoClient sub = PahoClient.connected(own, subscriber, false);
                 PahoClient pub = PahoClient.connected(own, publisher, true)) {
                sub.subscribe(topic, 1);
                for (int i = 0; i < 3; i++) {
                    pub.publish(topic, "acked-" + i, 1);
                    assertThat(sub.next().text()).isEqualTo("acked-" + i); // Paho sends the PUBACK on return
                }
            }

            own.restart();

            try (PahoClient sub = new PahoClient(own, subscriber.id());
                 PahoClient pub = PahoClient.connected(own, publisher, true)) {
                assertThat(sub.connect(Clients.pahoOptions(subscriber, false)).getSessionPresent()).isTrue();
                pub.publish(topic, "live", 1);
                assertThat(sub.next().text()).as("nothing acknowledged comes back").isEqualTo("live");
            }
        }
    }

    @Test
    void qos2_publish_resent_after_reconnect_is_routed_once_MQTT_4_3_3_2() throws Exception {
        TestDevice subscriber = Clients.device(platform, product, "incoming2-sub");
        TestDevice publisher = Clients.device(platform, product, "incoming2-pub");
        String topic = "session/incoming-qos2";
        try (PahoClient sub = PahoClient.connected(platform, subscriber, true)) {
            sub.subscribe(topic, 2);
            byte[] publish = RawMqtt.publishPacket(topic, 2, 11, "exactly-once".getBytes(UTF_8));
            try (RawMqtt pub = Clients.raw(platform, publisher, false, 30)) {
                pub.send(publish);
                expectAck(pub, PUBREC, 11);
            } // dropped before PUBREL

            try (RawMqtt pub = new RawMqtt(platform.mqttPort())) {
                assertThat(Clients.connect(pub, connectPacket(publisher, false)).sessionPresent()).isTrue();
                publish[0] |= 0x08; // DUP [MQTT-3.3.1-1]
                pub.send(publish);
                expectAck(pub, PUBREC, 11);
                pub.send(ack(PUBREL, 11));
                expectAck(pub, PUBCOMP, 11);
                // QoS 2 as well: Paho hands a QoS 2 message over on PUBREL, so a QoS 1 one could overtake it.
                pub.send(RawMqtt.publishPacket(topic, 2, 12, "after".getBytes(UTF_8)));
                expectAck(pub, PUBREC, 12);
                pub.send(ack(PUBREL, 12));
                expectAck(pub, PUBCOMP, 12);
            }

            assertThat(sub.next().text()).isEqualTo("exactly-once");
            assertThat(sub.next().text()).as("no second copy").isEqualTo("after");
        }
    }

    @Test
    void qos0_messages_are_not_queued_for_offline_sessions_D18() throws Exception {
        TestDevice subscriber = Clients.device(platform, product, "q0-sub");
        TestDevice publisher = Clients.device(platform, product, "q0-pub");
        String topic = "session/offline-q0";
        try (PahoClient sub = PahoClient.connected(platform, subscriber, false)) {
            sub.subscribe(topic, 1);
        }

        Mqtt3BlockingClient pub = Clients.hivemq(platform, publisher);
        Clients.connect(pub, true);
        pub.publishWith().topic(topic).qos(MqttQos.AT_MOST_ONCE).payload("qos0".getBytes()).send();
        pub.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).payload("qos1".getBytes()).send();
        pub.disconnect();

        try (PahoClient sub = new PahoClient(platform, subscriber.id())) {
            IMqttToken token = sub.connect(Clients.pahoOptions(subscriber, false));
            assertThat(token.getSessionPresent()).isTrue();
            assertThat(sub.next().text()).isEqualTo("qos1");
        }
    }

    @ParameterizedTest(name = "restart before reconnecting: {0}")
    @ValueSource(booleans = {false, true})
    void full_offline_queue_drops_the_oldest_message_D18(boolean restart, @TempDir Path dir) throws Exception {
        try (TestPlatform own = TestPlatform.start(dir, Map.of("session.max-queued", "3"))) {
            TestProduct p = own.createProduct("max-queued");
            TestDevice subscriber = Clients.device(own, p, "max-queued-sub");
            TestDevice publisher = Clients.device(own, p, "max-queued-pub");
            String topic = "session/max-queued";
            subscribeAndLeave(own, subscriber, topic);
            try (PahoClient pub = PahoClient.connected(own, publisher, true)) {
                for (int i = 0; i < 5; i++) {
                    pub.publish(topic, "m" + i, 1);
                }
            }
            if (restart) {
                own.restart(); // the dropped messages are gone from the store too
            }

            try (PahoClient sub = new PahoClient(own, subscriber.id());
                 PahoClient pub = PahoClient.connected(own, publisher, true)) {
                sub.connect(Clients.pahoOptions(subscriber, false));
                assertThat(sub.next().text()).isEqualTo("m2");
                assertThat(sub.next().text()).isEqualTo("m3");
                assertThat(sub.next().text()).isEqualTo("m4");
                pub.publish(topic, "live", 1);
                assertThat(sub.next().text()).isEqualTo("live");
            }
        }
    }

    @Test
    void clean_session_reconnect_has_no_session_and_no_old_subscriptions_MQTT_3_1_2_6() throws Exception {
        TestDevice subscriber = Clients.device(platform, product, "clean-sub");
        TestDevice publisher = Clients.device(platform, product, "clean-pub");
        subscribeAndLeave(platform, subscriber, "session/clean/old");
        try (PahoClient pub = PahoClient.connected(platform, publisher, true)) {
            pub.publish("session/clean/old", "queued", 1);

            Mqtt3BlockingClient sub = Clients.hivemq(platform, subscriber);
            try (Mqtt3Publishes received = sub.publishes(MqttGlobalPublishFilter.ALL)) {
                assertThat(Clients.connect(sub, true).isSessionPresent()).isFalse();
                sub.subscribeWith().topicFilter("session/clean/new").qos(MqttQos.AT_LEAST_ONCE).send();

                pub.publish("session/clean/old", "old-subscription", 1);
                pub.publish("session/clean/new", "new-subscription", 1);

                assertThat(text(next(received))).isEqualTo("new-subscription");
            } finally {
                sub.disconnect();
            }
        }

        // The clean session ended with its connection; nothing persistent is left either [MQTT-3.2.2-1].
        Mqtt3BlockingClient again = Clients.hivemq(platform, subscriber);
        assertThat(Clients.connect(again, false).isSessionPresent()).isFalse();
        again.disconnect();
    }

    /** Connects with clean session 0, subscribes at QoS 1 and disconnects cleanly. */
    private static void subscribeAndLeave(TestPlatform on, TestDevice device, String topic) {
        Mqtt3BlockingClient c = Clients.hivemq(on, device);
        Clients.connect(c, false);
        c.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
        c.disconnect();
    }

    // ---- takeover [MQTT-3.1.4-2] -----------------------------------------------------------------------

    @Test
    void second_connection_with_same_client_id_closes_the_first_MQTT_3_1_4_2() throws Exception {
        TestDevice device = Clients.device(platform, product, "takeover");
        try (PahoClient first = PahoClient.connected(platform, device, true);
             PahoClient second = new PahoClient(platform, device.id())) {
            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(online(platform, product, device)).isTrue());

            second.connect(Clients.pahoOptions(device, true));

            await().atMost(5, SECONDS).until(() -> first.lost().isDone());
            second.subscribe("session/takeover", 1);
            second.publish("session/takeover", "still-here", 1);
            assertThat(second.next().text()).isEqualTo("still-here");
            assertThat(online(platform, product, device)).isTrue();
        }
    }

    @Test
    void takeover_of_persistent_session_keeps_its_subscriptions_MQTT_3_1_4_2() throws Exception {
        TestDevice device = Clients.device(platform, product, "takeover-persistent");
        String topic = "session/takeover-persistent";
        try (RawMqtt first = Clients.raw(platform, device, false, 30)) {
            assertThat(Clients.subscribe(first, 1, topic, 1)).isEqualTo(1);

            Mqtt3BlockingClient second = Clients.hivemq(platform, device);
            try (Mqtt3Publishes received = second.publishes(MqttGlobalPublishFilter.ALL)) {
                assertThat(Clients.connect(second, false).isSessionPresent()).isTrue();
                assertThat(first.closedWithin(5000)).isTrue();

                second.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).payload("to-myself".getBytes()).send();
                assertThat(text(next(received))).isEqualTo("to-myself");
                assertThat(online(platform, product, device)).isTrue();
            } finally {
                second.disconnect();
            }
        }
    }

    // ---- keep-alive (D7) -------------------------------------------------------------------------------

    @Test
    void silent_client_is_closed_after_one_and_a_half_keep_alive_D7() throws Exception {
        TestDevice device = Clients.device(platform, product, "silent");
        try (RawMqtt raw = Clients.raw(platform, device, true, 1)) {
            assertThat(raw.closedWithin(1000)).as("still open during the first second").isFalse();
            assertThat(raw.closedWithin(3000)).as("closed after 1.5 s of silence").isTrue();
        }
        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(online(platform, product, device)).isFalse());
    }

    @Test
    void pingreq_gets_pingresp_and_keeps_the_connection_alive_MQTT_3_12_4_1() throws Exception {
        TestDevice device = Clients.device(platform, product, "pinging");
        try (RawMqtt raw = Clients.raw(platform, device, true, 1)) {
            for (int i = 0; i < 3; i++) {
                ping(raw);
                assertThat(raw.closedWithin(700)).isFalse();
            }
            // 2.1 s have passed, more than 1.5 x the keep-alive.
            ping(raw);
        }
    }
}
