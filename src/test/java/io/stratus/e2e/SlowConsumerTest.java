package io.stratus.e2e;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-session bounds: QoS 1 to a client that does not acknowledge is held up to mqtt.max-inflight + session.max-queued,
 * then the client is disconnected with a log line once nothing was acknowledged for mqtt.slow-consumer-seconds;
 * QoS 0 to a client that does not read is dropped and counted, and the client is disconnected when its send buffer
 * stays full that long. The heavy version (flood, -Xmx256m, a subscriber's p99) is OverloadIT.
 */
class SlowConsumerTest {
    private static final Map<String, String> BOUNDS = Map.of("mqtt.slow-consumer-seconds", "1", "session.max-queued", "50",
            "mqtt.max-inflight", "10");

    @TempDir
    Path dataDir;

    @RegisterExtension
    final LogCapture log = LogCapture.mqttConnection();

    @Test
    void a_subscriber_that_never_acknowledges_qos_1_is_held_to_the_limit_then_disconnected() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir, BOUNDS)) {
            TestProduct product = platform.createProduct("p");
            TestDevice slow = platform.createDevice(product, "slow", "slow-sn");
            TestDevice publisher = platform.createDevice(product, "pub", "pub-sn");
            try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                assertThat(raw.connect(slow.id(), product.id(), "slow-sn", 0, true)).isZero();
                raw.send(RawMqtt.subscribePacket(1, "s/#", 1));
                assertThat(raw.read().type()).isEqualTo(Clients.SUBACK);
                Mqtt3BlockingClient pub = Clients.hivemq(platform, publisher);
                Clients.connect(pub, true);
                for (int i = 0; i < 60; i++) {
                    pub.publishWith().topic("s/" + i).qos(MqttQos.AT_LEAST_ONCE).payload(new byte[10]).send();
                }
                assertThat(platform.platform().broker().sessionCount()).isEqualTo(2);
                // Held: 10 in flight, 50 queued. More arrive; once a second passes with no PUBACK, out it goes.
                int[] i = {60};
                await().atMost(10, SECONDS).until(() -> {
                    pub.publishWith().topic("s/" + i[0]++).qos(MqttQos.AT_LEAST_ONCE).payload(new byte[10]).send();
                    return !log.lines(slow.id(), "slow consumer").isEmpty();
                });
                assertThat(log.lines(slow.id(), "slow consumer").get(0)).contains("50 QoS 1/2 messages queued behind 10 unacknowledged");
                assertThat(raw.closedWithin(5000)).isTrue();
                assertThat(MonitoringTest.metricsText(platform)).contains("stratus_mqtt_slow_consumers_disconnected_total 1\n");
                pub.disconnect();
            }
        }
    }

    @Test
    void qos_0_to_a_subscriber_that_stops_reading_is_dropped_and_counted_then_the_subscriber_is_disconnected() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir, BOUNDS)) {
            TestProduct product = platform.createProduct("p");
            TestDevice slow = platform.createDevice(product, "slow", "slow-sn");
            TestDevice publisher = platform.createDevice(product, "pub", "pub-sn");
            try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                assertThat(raw.connect(slow.id(), product.id(), "slow-sn", 0, true)).isZero();
                raw.send(RawMqtt.subscribePacket(1, "z/#", 0));
                assertThat(raw.read().type()).isEqualTo(Clients.SUBACK);
                // From here the raw client reads nothing: its socket buffers, then the server's send buffer, fill up.
                Mqtt3BlockingClient pub = Clients.hivemq(platform, publisher);
                Clients.connect(pub, true);
                byte[] payload = new byte[64 * 1024];
                await().atMost(20, SECONDS).until(() -> {
                    for (int k = 0; k < 20; k++) {
                        pub.publishWith().topic("z/x").qos(MqttQos.AT_LEAST_ONCE).payload(payload).send();
                    }
                    return !log.lines(slow.id(), "slow consumer: send buffer full").isEmpty();
                });
                String metrics = MonitoringTest.metricsText(platform);
                long dropped = Long.parseLong(metrics.replaceAll("(?s).*\nstratus_mqtt_messages_dropped_total (\\d+)\n.*", "$1"));
                assertThat(dropped).as("QoS 0 messages dropped while the subscriber's buffer was full").isPositive();
                assertThat(metrics).contains("stratus_mqtt_slow_consumers_disconnected_total 1\n");
                pub.disconnect();
            }
        }
    }
}
