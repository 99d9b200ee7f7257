package io.stratus.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttIdentifierRejectedException;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttUnacceptableProtocolVersionException;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.stratus.device.ConnectCode;
import io.stratus.device.Device;
import io.stratus.device.DeviceChange;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.LoginThrottle;
import io.stratus.device.Product;
import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CONNECT decision table where the end-to-end tests do not reach: the order of the checks when several apply,
 * and the will topic (D5, docs/decisions.md). A real registry over a temporary SQLite store and a real throttle on a
 * fake clock.
 */
class ConnectCheckTest {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.1", 40000);

    @TempDir
    Path dataDir;
    private Database database;
    private BatchWriter writer;
    private DeviceRegistry registry;
    private final LoginThrottle throttle = new LoginThrottle(3, 10, 1000, 8000, new AtomicLong(1_000_000)::get);
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicReference<String> storeProblem = new AtomicReference<>();
    private ConnectCheck check;
    private Product product;
    private Device device;

    @BeforeEach
    void setUp() {
        database = Database.openSqlite(dataDir, "normal");
        writer = new BatchWriter(database, "state", 1024, 100);
        registry = new DeviceRegistry(database, writer, false);
        product = registry.createProduct("product", null, "MQTT");
        device = registry.createDevice(product.id(), new DeviceChange("device", null, "device-sn", null, null, null, null, null, null));
        check = new ConnectCheck(registry, throttle, stopping::get, storeProblem::get);
    }

    @AfterEach
    void tearDown() {
        writer.close();
        database.close();
    }

    @Test
    void accepted_connect_carries_the_login_will_and_the_credential_changes_read_before_the_login() {
        long changesBefore = registry.credentialChanges();

        ConnectCheck.Outcome outcome = check.check(connect("device-sn", "status/" + device.id()), CLIENT, null, false);

        assertThat(outcome).isInstanceOf(ConnectCheck.Accepted.class);
        ConnectCheck.Accepted accepted = (ConnectCheck.Accepted) outcome;
        assertThat(accepted.clientId()).isEqualTo(String.valueOf(device.id()));
        assertThat(accepted.deviceId()).isEqualTo(device.id());
        assertThat(accepted.login().productId()).isEqualTo(product.id());
        assertThat(accepted.keepAliveSeconds()).isEqualTo(60);
        assertThat(accepted.cleanSession()).isTrue();
        assertThat(accepted.will().topic()).isEqualTo("status/" + device.id());
        assertThat(accepted.will().qos()).isEqualTo(1);
        assertThat(accepted.credentialChanges()).isEqualTo(changesBefore);
    }

    @Test
    void will_topic_with_a_wildcard_closes_without_connack_MQTT_3_3_2_2() {
        ConnectCheck.Refused refused = refused(connect("device-sn", "status/#"));

        assertThat(refused.code()).as("no CONNACK").isNull();
        assertThat(refused.reason()).isEqualTo("invalid will topic: wildcard '#' in topic name");
    }

    @Test
    void will_on_a_system_topic_closes_without_connack() {
        ConnectCheck.Refused refused = refused(connect("device-sn", "$dp"));

        assertThat(refused.code()).as("no CONNACK").isNull();
        assertThat(refused.reason()).isEqualTo("invalid will topic: system topic");
    }

    @Test
    void a_wrong_password_with_an_invalid_will_gets_connack_4_as_the_login_is_checked_first_D5() {
        ConnectCheck.Refused refused = refused(connect("wrong", "$dp"));

        assertThat(refused.code()).isEqualTo(ConnectCode.BAD_USERNAME_OR_PASSWORD);
        assertThat(throttle.failureCount()).isEqualTo(1);
    }

    @Test
    void while_the_store_is_down_a_wrong_password_gets_a_routine_connack_3_and_costs_no_failed_login_D5() {
        storeProblem.set("store not writable: disk full");

        ConnectCheck.Refused refused = refused(connect("wrong", null));

        assertThat(refused.code()).isEqualTo(ConnectCode.SERVER_UNAVAILABLE);
        assertThat(refused.routine()).as("logged at DEBUG: every reconnecting device gets it").isTrue();
        assertThat(refused.reason()).isEqualTo("store not writable: disk full");
        assertThat(throttle.failureCount()).isZero();
    }

    @Test
    void while_the_store_is_down_a_blocked_client_gets_connack_3_not_5_D5() {
        for (int i = 0; i < 3; i++) {
            assertThat(refused(connect("wrong", null)).code()).isEqualTo(ConnectCode.BAD_USERNAME_OR_PASSWORD);
        }
        assertThat(refused(connect("device-sn", null)).code()).isEqualTo(ConnectCode.NOT_AUTHORIZED);

        storeProblem.set("store not writable: disk full");

        assertThat(refused(connect("device-sn", null)).code()).isEqualTo(ConnectCode.SERVER_UNAVAILABLE);
    }

    @Test
    void shutting_down_is_answered_before_the_store_and_logged_at_info_D5() {
        stopping.set(true);
        storeProblem.set("store not writable: disk full");

        ConnectCheck.Refused refused = refused(connect("device-sn", null));

        assertThat(refused.code()).isEqualTo(ConnectCode.SERVER_UNAVAILABLE);
        assertThat(refused.reason()).isEqualTo("server is shutting down");
        assertThat(refused.routine()).isFalse();
    }

    @Test
    void decoder_failures_of_a_connect_map_to_connack_1_and_2_and_others_to_a_close_MQTT_3_1_2_2() {
        assertThat(ConnectCheck.refusalOf(new MqttUnacceptableProtocolVersionException("level 6"), "-").code())
                .isEqualTo(ConnectCode.UNACCEPTABLE_PROTOCOL_VERSION);
        assertThat(ConnectCheck.refusalOf(new MqttIdentifierRejectedException("too long"), "-").code())
                .isEqualTo(ConnectCode.IDENTIFIER_REJECTED);
        assertThat(ConnectCheck.refusalOf(new DecoderException("truncated"), "-")).isNull();
    }

    private ConnectCheck.Refused refused(MqttConnectMessage connect) {
        ConnectCheck.Outcome outcome = check.check(connect, CLIENT, null, false);
        assertThat(outcome).isInstanceOf(ConnectCheck.Refused.class);
        return (ConnectCheck.Refused) outcome;
    }

    /** A 3.1.1 CONNECT as the device, with a QoS 1 will on {@code willTopic} unless it is null. */
    private MqttConnectMessage connect(String password, String willTopic) {
        MqttMessageBuilders.ConnectBuilder b = MqttMessageBuilders.connect()
                .protocolVersion(MqttVersion.MQTT_3_1_1)
                .clientId(String.valueOf(device.id()))
                .username(String.valueOf(product.id()))
                .password(password.getBytes(StandardCharsets.UTF_8))
                .keepAlive(60)
                .cleanSession(true);
        if (willTopic != null) {
            b.willFlag(true).willTopic(willTopic).willMessage("gone".getBytes(StandardCharsets.UTF_8))
                    .willQoS(MqttQoS.AT_LEAST_ONCE);
        }
        return b.build();
    }
}
