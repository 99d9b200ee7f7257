package io.stratus.e2e;

import static io.stratus.e2e.Clients.PUBCOMP;
import static io.stratus.e2e.Clients.PUBREC;
import static io.stratus.e2e.Clients.PUBREL;
import static io.stratus.e2e.Clients.ack;
import static io.stratus.e2e.Clients.expectAck;
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
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * QoS 0/1/2 to and from the server: delivery at min(publish QoS, granted QoS) (D11, docs/decisions.md), exactly once
 * for QoS 2.
 */
class QosTest {
    @TempDir
    static Path dataDir;
    static TestPlatform platform;
    static TestProduct product;
    /** Paho takes ~300 ms to connect, so the QoS matrix shares one Paho publisher and one Paho subscriber. */
    static PahoClient pahoPublisher;
    static PahoClient pahoSubscriber;

    @BeforeAll
    static void start() throws Exception {
        platform = TestPlatform.start(dataDir);
        product = platform.createProduct("qos");
        pahoPublisher = PahoClient.connected(platform, Clients.device(platform, product, "paho-pub"), true);
        pahoSubscriber = PahoClient.connected(platform, Clients.device(platform, product, "paho-sub"), true);
    }

    @AfterAll
    static void stop() throws Exception {
        pahoPublisher.close();
        pahoSubscriber.close();
        platform.close();
    }

    /** Every byte value, so that nothing on the way may treat the payload as text. */
    private static byte[] binaryPayload(int publishQos, int subscribeQos) {
        byte[] b = new byte[258];
        for (int i = 0; i < 256; i++) {
            b[i] = (byte) i;
        }
        b[256] = (byte) publishQos;
        b[257] = (byte) subscribeQos;
        return b;
    }

    @ParameterizedTest(name = "publish QoS {0}, subscription QoS {1} -> delivered at QoS {2}")
    @CsvSource({"0,0,0", "0,1,0", "0,2,0", "1,0,0", "1,1,1", "1,2,1", "2,0,0", "2,1,1", "2,2,2"})
    void paho_publisher_to_hivemq_subscriber_delivers_at_min_qos_D11(int publishQos, int subscribeQos, int expected)
            throws Exception {
        String topic = "qos/hive/" + publishQos + subscribeQos;
        byte[] payload = binaryPayload(publishQos, subscribeQos);
        Mqtt3BlockingClient sub = Clients.hivemq(platform, Clients.device(platform, product, "hive-sub"));
        try (Mqtt3Publishes received = sub.publishes(MqttGlobalPublishFilter.ALL)) {
            Clients.connect(sub, true);
            sub.subscribeWith().topicFilter(topic).qos(MqttQos.fromCode(subscribeQos)).send();

            pahoPublisher.client().publish(topic, payload, publishQos, false);

            Mqtt3Publish p = next(received);
            assertThat(p.getTopic().toString()).isEqualTo(topic);
            assertThat(p.getQos().getCode()).isEqualTo(expected);
            assertThat(p.getPayloadAsBytes()).isEqualTo(payload);
            assertThat(p.isRetain()).isFalse();
        } finally {
            sub.disconnect();
        }
    }

    @ParameterizedTest(name = "publish QoS {0}, subscription QoS {1} -> delivered at QoS {2}")
    @CsvSource({"0,0,0", "0,1,0", "0,2,0", "1,0,0", "1,1,1", "1,2,1", "2,0,0", "2,1,1", "2,2,2"})
    void hivemq_publisher_to_paho_subscriber_delivers_at_min_qos_D11(int publishQos, int subscribeQos, int expected)
            throws Exception {
        String topic = "qos/paho/" + publishQos + subscribeQos;
        byte[] payload = binaryPayload(publishQos, subscribeQos);
        Mqtt3BlockingClient pub = Clients.hivemq(platform, Clients.device(platform, product, "hive-pub"));
        pahoSubscriber.subscribe(topic, subscribeQos);
        try {
            Clients.connect(pub, true);

            pub.publishWith().topic(topic).qos(MqttQos.fromCode(publishQos)).payload(payload).send();

            PahoClient.Received r = pahoSubscriber.next();
            assertThat(r.topic()).isEqualTo(topic);
            assertThat(r.message().getQos()).isEqualTo(expected);
            assertThat(r.message().getPayload()).isEqualTo(payload);
            assertThat(r.message().isRetained()).isFalse();
        } finally {
            pub.disconnect();
            pahoSubscriber.client().unsubscribe(topic);
        }
    }

    @Test
    void qos2_publish_resent_before_pubrel_is_delivered_exactly_once_MQTT_4_3_3_2() throws Exception {
        TestDevice subscriber = Clients.device(platform, product, "exactly-once-sub");
        TestDevice publisher = Clients.device(platform, product, "exactly-once-pub");
        String topic = "qos/exactly-once";
        Mqtt3BlockingClient sub = Clients.hivemq(platform, subscriber);
        try (Mqtt3Publishes received = sub.publishes(MqttGlobalPublishFilter.ALL);
             RawMqtt pub = Clients.raw(platform, publisher, true, 30)) {
            Clients.connect(sub, true);
            sub.subscribeWith().topicFilter(topic).qos(MqttQos.EXACTLY_ONCE).send();

            byte[] first = RawMqtt.publishPacket(topic, 2, 7, "once".getBytes(UTF_8));
            pub.send(first);
            expectAck(pub, PUBREC, 7);
            first[0] |= 0x08; // the same PUBLISH again with DUP set, as after a lost PUBREC [MQTT-4.3.3-1]
            pub.send(first);
            expectAck(pub, PUBREC, 7);
            pub.send(ack(PUBREL, 7));
            expectAck(pub, PUBCOMP, 7);
            pub.send(RawMqtt.publishPacket(topic, 2, 8, "after".getBytes(UTF_8))); // QoS 2 too, so nothing overtakes
            expectAck(pub, PUBREC, 8);
            pub.send(ack(PUBREL, 8));
            expectAck(pub, PUBCOMP, 8);

            Mqtt3Publish p = next(received);
            assertThat(text(p)).isEqualTo("once");
            assertThat(p.getQos()).isEqualTo(MqttQos.EXACTLY_ONCE);
            assertThat(text(next(received))).as("no second copy before the next message").isEqualTo("after");
        } finally {
            sub.disconnect();
        }
    }

    @Test
    void qos1_messages_of_one_publisher_arrive_in_order_MQTT_4_6_0_6() throws Exception {
        TestDevice subscriber = Clients.device(platform, product, "order-sub");
        TestDevice publisher = Clients.device(platform, product, "order-pub");
        String topic = "qos/order";
        try (PahoClient sub = PahoClient.connected(platform, subscriber, true);
             PahoClient pub = PahoClient.connected(platform, publisher, true)) {
            sub.subscribe(topic, 1);

            for (int i = 0; i < 20; i++) {
                pub.publish(topic, "m" + i, 1);
            }

            for (int i = 0; i < 20; i++) {
                assertThat(sub.next().text()).isEqualTo("m" + i);
            }
        }
    }

    @Test
    void client_receives_its_own_message_D17() throws Exception {
        TestDevice device = Clients.device(platform, product, "own");
        try (PahoClient client = PahoClient.connected(platform, device, true)) {
            client.subscribe("qos/own", 1);

            client.publish("qos/own", "echo", 1);

            PahoClient.Received r = client.next();
            assertThat(r.topic()).isEqualTo("qos/own");
            assertThat(r.text()).isEqualTo("echo");
            MqttMessage m = r.message();
            assertThat(m.getQos()).isEqualTo(1);
        }
    }
}
