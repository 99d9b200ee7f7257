package io.stratus.e2e;

import static io.stratus.e2e.Clients.next;
import static io.stratus.e2e.Clients.online;
import static io.stratus.e2e.Clients.text;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient.Mqtt3Publishes;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAckReturnCode;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.util.Map;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mqtt.allow-anonymous}: clients without credentials join the default product (D5, docs/decisions.md). */
class AnonymousTest {
    @TempDir
    static Path dataDir;
    static TestPlatform platform;
    static TestProduct product;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(dataDir, Map.of("mqtt.allow-anonymous", "true"));
        product = platform.createProduct("with-devices");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    private static PahoClient anonymousPaho(TestPlatform on, String clientId) throws MqttException {
        PahoClient c = new PahoClient(on, clientId);
        c.connect(Clients.pahoOptions(null, null, true));
        return c;
    }

    /** A HiveMQ client without credentials or client id: the server assigns one [MQTT-3.1.3-6]. */
    private static Mqtt3BlockingClient anonymousHivemq() {
        Mqtt3BlockingClient c = Mqtt3Client.builder().serverHost("127.0.0.1").serverPort(platform.mqttPort()).buildBlocking();
        Clients.connect(c, true);
        return c;
    }

    @Test
    void clients_without_credentials_connect_and_exchange_messages() throws Exception {
        Mqtt3BlockingClient hive = Mqtt3Client.builder().serverHost("127.0.0.1").serverPort(platform.mqttPort()).buildBlocking();
        try (Mqtt3Publishes hiveReceived = hive.publishes(MqttGlobalPublishFilter.ALL);
             PahoClient paho = anonymousPaho(platform, "anon-paho")) {
            Clients.connect(hive, true);
            hive.subscribeWith().topicFilter("anon/to-hive").qos(MqttQos.AT_LEAST_ONCE).send();
            paho.subscribe("anon/to-paho", 1);

            paho.publish("anon/to-hive", "hello hive", 1);
            hive.publishWith().topic("anon/to-paho").qos(MqttQos.AT_LEAST_ONCE).payload("hello paho".getBytes(UTF_8)).send();

            assertThat(text(next(hiveReceived))).isEqualTo("hello hive");
            assertThat(paho.next().text()).isEqualTo("hello paho");
        } finally {
            hive.disconnect();
        }
    }

    @Test
    void anonymous_clients_and_devices_do_not_see_each_others_traffic() throws Exception {
        TestDevice device = Clients.device(platform, product, "device");
        TestDevice peer = Clients.device(platform, product, "peer");
        Mqtt3BlockingClient anonymous = Mqtt3Client.builder().serverHost("127.0.0.1").serverPort(platform.mqttPort()).buildBlocking();
        try (Mqtt3Publishes anonymousReceived = anonymous.publishes(MqttGlobalPublishFilter.ALL);
             PahoClient devicePub = PahoClient.connected(platform, device, true);
             PahoClient deviceSub = PahoClient.connected(platform, peer, true)) {
            Clients.connect(anonymous, true);
            anonymous.subscribeWith().topicFilter("#").qos(MqttQos.AT_LEAST_ONCE).send();
            deviceSub.subscribe("#", 1);

            devicePub.publish("shared/topic", "device-traffic", 1);
            assertThat(deviceSub.next().text()).as("positive control: same product").isEqualTo("device-traffic");
            anonymous.publishWith().topic("shared/topic").qos(MqttQos.AT_LEAST_ONCE).payload("anonymous-traffic".getBytes(UTF_8)).send();
            devicePub.publish("shared/end", "device-end", 1);

            assertThat(text(next(anonymousReceived))).as("no device traffic").isEqualTo("anonymous-traffic");
            assertThat(deviceSub.next().text()).as("no anonymous traffic").isEqualTo("device-end");
        } finally {
            anonymous.disconnect();
        }
    }

    @Test
    void anonymous_client_with_a_device_id_as_client_id_does_not_take_over_the_device() throws Exception {
        TestDevice device = Clients.device(platform, product, "not-hijacked");
        try (PahoClient real = PahoClient.connected(platform, device, true);
             PahoClient impostor = anonymousPaho(platform, device.id())) {
            impostor.subscribe("hijack/#", 1);
            real.subscribe("hijack/#", 1);

            real.publish("hijack/check", "device", 1);

            assertThat(real.next().text()).isEqualTo("device");
            assertThat(real.lost()).isNotDone();
            assertThat(online(platform, product, device)).isTrue();
            impostor.publish("hijack/check", "impostor", 1);
            assertThat(impostor.next().text()).as("the impostor sees only its own product").isEqualTo("impostor");
        }
    }

    @Test
    void wrong_credentials_still_get_connack_4_D5() {
        TestDevice device = Clients.device(platform, product, "wrong");
        Mqtt3BlockingClient client = Clients.hivemq(platform, device.id(), device.productId(), "not-" + device.authInfo());

        assertThatExceptionOfType(Mqtt3ConnAckException.class).isThrownBy(client::connect)
                .satisfies(e -> assertThat(e.getMqttMessage().getReturnCode())
                        .isEqualTo(Mqtt3ConnAckReturnCode.BAD_USER_NAME_OR_PASSWORD));
    }

    @Test
    void user_name_without_password_is_still_closed_without_connack_D5() throws Exception {
        TestDevice device = Clients.device(platform, product, "half");
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            assertThat(raw.connect(device.id(), device.productId(), null, 30, true)).isEqualTo(-1);
        }
    }

    @Test
    void empty_client_id_gets_an_assigned_one_MQTT_3_1_3_6() throws Exception {
        Mqtt3BlockingClient first = anonymousHivemq();
        Mqtt3BlockingClient second = Mqtt3Client.builder().serverHost("127.0.0.1").serverPort(platform.mqttPort()).buildBlocking();
        try (Mqtt3Publishes firstReceived = first.publishes(MqttGlobalPublishFilter.ALL)) {
            first.subscribeWith().topicFilter("assigned/#").qos(MqttQos.AT_LEAST_ONCE).send();
            Clients.connect(second, true); // two empty client ids: no takeover between them

            second.publishWith().topic("assigned/x").qos(MqttQos.AT_LEAST_ONCE).payload("x".getBytes(UTF_8)).send();

            assertThat(text(next(firstReceived))).isEqualTo("x");
        } finally {
            first.disconnect();
            second.disconnect();
        }
    }

    @Test
    void empty_client_id_with_clean_session_0_gets_connack_2_MQTT_3_1_3_8() throws Exception {
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            assertThat(raw.connect("", null, null, 30, false)).isEqualTo(2);
        }
    }

    @Test
    void a_client_id_over_256_characters_gets_connack_2_and_256_are_accepted() throws Exception {
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            assertThat(raw.connect("c".repeat(257), null, null, 30, true)).isEqualTo(2);
        }
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            assertThat(raw.connect("c".repeat(256), null, null, 30, true)).isZero();
        }
    }

    @Test
    void client_without_credentials_is_closed_when_anonymous_access_is_off(@TempDir Path dir) throws Exception {
        try (TestPlatform strict = TestPlatform.start(dir);
             PahoClient paho = new PahoClient(strict, "anon-refused")) {
            assertThatExceptionOfType(MqttException.class).isThrownBy(() -> paho.connect(Clients.pahoOptions(null, null, true)))
                    .satisfies(e -> assertThat(e.getReasonCode()).isEqualTo(MqttException.REASON_CODE_CONNECTION_LOST));
            try (RawMqtt raw = new RawMqtt(strict.mqttPort())) {
                assertThat(raw.connect("anon-raw", null, null, 30, true)).as("no CONNACK").isEqualTo(-1);
            }
        }
    }
}
