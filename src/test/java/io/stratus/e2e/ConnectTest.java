package io.stratus.e2e;

import static io.stratus.e2e.Clients.online;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAck;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAckReturnCode;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.util.Map;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** OneNET device login and its CONNACK codes (D5, docs/decisions.md), and the device's online flag. */
class ConnectTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct product;
    static TestProduct otherProduct;

    @BeforeAll
    static void start() {
        product = platform.createProduct("connect");
        otherProduct = platform.createProduct("connect-other");
    }

    @Test
    void connack_0_with_auth_info_and_device_online_until_disconnect() throws Exception {
        TestDevice device = Clients.device(platform, product, "auth-info");
        assertThat(online(platform, product, device)).isFalse();

        PahoClient client = PahoClient.connected(platform, device, true);
        assertThat(client.client().isConnected()).isTrue();
        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(online(platform, product, device)).isTrue());

        client.close();
        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(online(platform, product, device)).isFalse());
    }

    @Test
    void connack_0_with_product_master_key_as_password() {
        TestDevice device = Clients.device(platform, product, "master-key");
        Mqtt3BlockingClient client = Clients.hivemq(platform, device.id(), product.id(), product.masterKey());

        Mqtt3ConnAck ack = Clients.connect(client, true);

        assertThat(ack.getReturnCode()).isEqualTo(Mqtt3ConnAckReturnCode.SUCCESS);
        assertThat(ack.isSessionPresent()).isFalse();
        client.disconnect();
    }

    @Test
    void connack_1_for_protocol_level_3_MQTT_3_1_2_2() throws Exception {
        TestDevice device = Clients.device(platform, product, "mqtt31");
        MqttConnectOptions options = Clients.pahoOptions(device, true);
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1);

        try (PahoClient client = new PahoClient(platform, device.id())) {
            assertThatExceptionOfType(MqttException.class).isThrownBy(() -> client.connect(options))
                    .satisfies(e -> assertThat(e.getReasonCode()).isEqualTo(MqttException.REASON_CODE_INVALID_PROTOCOL_VERSION));
        }
    }

    @Test
    void connack_2_for_non_numeric_client_id() throws Exception {
        try (PahoClient client = new PahoClient(platform, "not-a-device")) {
            assertThatExceptionOfType(MqttException.class)
                    .isThrownBy(() -> client.connect(Clients.pahoOptions(product.id(), product.masterKey(), true)))
                    .satisfies(e -> assertThat(e.getReasonCode()).isEqualTo(MqttException.REASON_CODE_INVALID_CLIENT_ID));
        }
    }

    @Test
    void connack_2_for_unknown_device_id() {
        Mqtt3BlockingClient client = Clients.hivemq(platform, "987654321987", product.id(), product.masterKey());

        assertThatExceptionOfType(Mqtt3ConnAckException.class).isThrownBy(client::connect)
                .satisfies(e -> assertThat(e.getMqttMessage().getReturnCode()).isEqualTo(Mqtt3ConnAckReturnCode.IDENTIFIER_REJECTED));
    }

    @Test
    void connack_2_for_another_spelling_of_a_device_id() throws Exception {
        TestDevice device = Clients.device(platform, product, "one-spelling");
        // One device, one client id: "0" + id would be a second session of the same device that revoking its login,
        // deleting it or a takeover would not reach. Every secret is refused under such a spelling.
        for (String password : new String[] {device.authInfo(), product.masterKey()}) {
            try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                assertThat(raw.connect("0" + device.id(), product.id(), password, 30, true)).isEqualTo(2);
            }
        }
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            assertThat(raw.connect(device.id(), product.id(), device.authInfo(), 30, true)).isZero();
        }
    }

    @Test
    void connack_2_for_empty_client_id_with_credentials_D5() throws Exception {
        for (boolean clean : new boolean[] {true, false}) {
            try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                assertThat(raw.connect("", product.id(), product.masterKey(), 30, clean)).isEqualTo(2);
                assertThat(raw.closedWithin(5000)).isTrue();
            }
        }
    }

    @Test
    void connack_4_for_wrong_password() {
        TestDevice device = Clients.device(platform, product, "wrong-password");
        Mqtt3BlockingClient client = Clients.hivemq(platform, device.id(), product.id(), "wrong-" + device.authInfo());

        assertThatExceptionOfType(Mqtt3ConnAckException.class).isThrownBy(client::connect)
                .satisfies(e -> assertThat(e.getMqttMessage().getReturnCode())
                        .isEqualTo(Mqtt3ConnAckReturnCode.BAD_USER_NAME_OR_PASSWORD));
    }

    @Test
    void connack_4_for_device_of_product_a_with_product_b_as_username() throws Exception {
        TestDevice device = Clients.device(platform, product, "product-mismatch");

        try (PahoClient client = new PahoClient(platform, device.id())) {
            // product B's id with product B's own master key: still not B's device
            assertThatExceptionOfType(MqttException.class)
                    .isThrownBy(() -> client.connect(Clients.pahoOptions(otherProduct.id(), otherProduct.masterKey(), true)))
                    .satisfies(e -> assertThat(e.getReasonCode()).isEqualTo(MqttException.REASON_CODE_FAILED_AUTHENTICATION));
            assertThatExceptionOfType(MqttException.class)
                    .isThrownBy(() -> client.connect(Clients.pahoOptions(otherProduct.id(), device.authInfo(), true)))
                    .satisfies(e -> assertThat(e.getReasonCode()).isEqualTo(MqttException.REASON_CODE_FAILED_AUTHENTICATION));
        }
    }

    @Test
    void connack_5_for_disabled_device() {
        TestDevice device = Clients.device(platform, product, "disabled");
        disable(device);
        Mqtt3BlockingClient client = Clients.hivemq(platform, device);

        assertThatExceptionOfType(Mqtt3ConnAckException.class).isThrownBy(client::connect)
                .satisfies(e -> assertThat(e.getMqttMessage().getReturnCode()).isEqualTo(Mqtt3ConnAckReturnCode.NOT_AUTHORIZED));
    }

    @Test
    void online_device_is_disconnected_when_disabled() throws Exception {
        TestDevice device = Clients.device(platform, product, "disabled-online");
        try (PahoClient client = PahoClient.connected(platform, device, false)) {
            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(online(platform, product, device)).isTrue());

            disable(device);

            await().atMost(5, SECONDS).until(() -> client.lost().isDone());
            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(online(platform, product, device)).isFalse());
        }
    }

    @Test
    void connect_without_password_flag_is_closed_without_connack() throws Exception {
        TestDevice device = Clients.device(platform, product, "no-password");
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            assertThat(raw.connect(device.id(), device.productId(), null, 30, true)).isEqualTo(-1);
        }
    }

    @Test
    void connect_without_username_flag_is_closed_without_connack() throws Exception {
        TestDevice device = Clients.device(platform, product, "no-username");
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            assertThat(raw.connect(device.id(), null, device.authInfo(), 30, true)).isEqualTo(-1);
        }
    }

    @Test
    void connect_without_any_credentials_is_closed_without_connack() throws Exception {
        TestDevice device = Clients.device(platform, product, "no-credentials");
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            assertThat(raw.connect(device.id(), null, null, 30, true)).isEqualTo(-1);
        }
    }

    private static void disable(TestDevice device) {
        TestPlatform.Reply r = platform.withKey(product.masterKey(), "PUT", "/devices/" + device.id(), Map.of("disabled", true));
        assertThat(r.errno()).as("PUT disabled: %s", r.body()).isZero();
    }
}
