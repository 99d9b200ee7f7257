package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.e2e.RawMqtt.Packet;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /{device_id}/{stream}} carries a device's stored data points (D4, docs/decisions.md). Another device of the
 * product cannot publish there: its PUBLISH is acknowledged and not routed [MQTT-3.3.5-2], counted, and logged once per
 * connection; the device's own forwards still arrive.
 */
class ForwardTopicTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    @RegisterExtension
    final LogCapture log = LogCapture.of("io.stratus.broker.Client");

    @Test
    void another_device_cannot_forge_a_forward_and_the_real_one_arrives() throws IOException {
        TestProduct product = platform.createProduct("forwards");
        TestDevice sensor = platform.createDevice(product, "sensor", "SN-F1");
        TestDevice forger = platform.createDevice(product, "forger", "SN-F2");
        TestDevice follower = platform.createDevice(product, "follower", "SN-F3");
        try (RawMqtt sub = new RawMqtt(platform.mqttPort()); RawMqtt bad = new RawMqtt(platform.mqttPort());
             RawMqtt real = new RawMqtt(platform.mqttPort())) {
            assertThat(sub.connect(follower.id(), product.id(), "SN-F3", 30, true)).isZero();
            sub.send(RawMqtt.subscribePacket(1, "/" + sensor.id() + "/temp", 1));
            assertThat(sub.read().header()).isEqualTo(0x90);
            assertThat(bad.connect(forger.id(), product.id(), "SN-F2", 30, true)).isZero();
            assertThat(real.connect(sensor.id(), product.id(), "SN-F1", 30, true)).isZero();

            for (int i = 1; i <= 3; i++) {
                bad.send(RawMqtt.publishPacket("/" + sensor.id() + "/temp", 1, i, "99".getBytes(StandardCharsets.UTF_8)));
                Packet ack = bad.read();
                assertThat(ack.header()).as("PUBACK: acknowledged").isEqualTo(0x40);
            }
            real.send(RawMqtt.publishPacket("$dp", 1, 1, Points.dp(3, "{\"temp\":21.5}")));
            assertThat(real.read().header()).isEqualTo(0x40);

            Packet delivered = sub.read();
            assertThat(new String(delivered.body(), StandardCharsets.UTF_8)).as("the first message is the real forward")
                    .endsWith("21.5");
        }
        assertThat(log.lines("[" + forger.id() + "]", "another device's forward topic")).hasSize(1);
        assertThat(MonitoringTest.metricsText(platform)).contains("stratus_mqtt_publish_denied_total 3");
    }

    @Test
    void a_device_may_publish_its_own_forward_topic_and_ordinary_numeric_topics() throws IOException {
        TestProduct product = platform.createProduct("forwards-own");
        TestDevice device = platform.createDevice(product, "own", "SN-O1");
        TestDevice follower = platform.createDevice(product, "follower", "SN-O2");
        try (RawMqtt sub = new RawMqtt(platform.mqttPort()); RawMqtt pub = new RawMqtt(platform.mqttPort())) {
            assertThat(sub.connect(follower.id(), product.id(), "SN-O2", 30, true)).isZero();
            sub.send(RawMqtt.subscribePacket(1, "/#", 0));
            assertThat(sub.read().header()).isEqualTo(0x90);
            assertThat(pub.connect(device.id(), product.id(), "SN-O1", 30, true)).isZero();
            for (String topic : List.of("/" + device.id() + "/note", "/123/x", "/999999999/a/b")) {
                pub.send(RawMqtt.publishPacket(topic, 0, 0, "m".getBytes(StandardCharsets.UTF_8)));
                assertThat(new String(sub.read().body(), StandardCharsets.UTF_8)).contains(topic);
            }
        }
    }
}
