package io.stratus.e2e;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * D14 (docs/decisions.md): a packet whose remaining length is over {@code mqtt.max-packet-bytes} (4 MiB by default)
 * closes the connection that sent it, with a log line; packets up to the limit are delivered; other connections carry
 * on.
 */
class OversizeTest {
    private static final String TOPIC = "big/data";
    /** Remaining length of a QoS 0 PUBLISH to {@link #TOPIC} with an empty payload: two length bytes and the topic. */
    private static final int PUBLISH_OVERHEAD = 10;

    @TempDir
    static Path dataDir;
    /** A server with {@code mqtt.max-packet-bytes=1024}. */
    static Fleet small;
    static final AtomicInteger probes = new AtomicInteger();

    @RegisterExtension
    final LogCapture log = LogCapture.mqttConnection();

    /** A server, a device that publishes raw packets and a well-behaved HiveMQ client subscribed to {@code #}. */
    record Fleet(TestPlatform platform, TestDevice publisher, Mqtt3BlockingClient watcher,
                 Mqtt3BlockingClient.Mqtt3Publishes received) implements AutoCloseable {

        static Fleet start(Path dir, Map<String, String> settings) {
            TestPlatform platform = TestPlatform.start(dir, settings);
            TestProduct product = platform.createProduct("oversize");
            TestDevice publisher = platform.createDevice(product, "publisher", "publisher-sn");
            TestDevice watcherDevice = platform.createDevice(product, "watcher", "watcher-sn");
            Mqtt3BlockingClient watcher = Mqtt3Client.builder().identifier(watcherDevice.id())
                    .serverHost("127.0.0.1").serverPort(platform.mqttPort())
                    .simpleAuth().username(product.id()).password(watcherDevice.authInfo().getBytes(StandardCharsets.UTF_8))
                    .applySimpleAuth().buildBlocking();
            watcher.connectWith().cleanSession(true).keepAlive(60).send();
            Mqtt3BlockingClient.Mqtt3Publishes received = watcher.publishes(MqttGlobalPublishFilter.ALL);
            watcher.subscribeWith().topicFilter("#").qos(MqttQos.AT_LEAST_ONCE).send();
            return new Fleet(platform, publisher, watcher, received);
        }

        RawMqtt loggedInPublisher() throws IOException {
            RawMqtt raw = new RawMqtt(platform.mqttPort());
            assertThat(raw.connect(publisher.id(), publisher.productId(), publisher.authInfo(), 60, true)).isZero();
            return raw;
        }

        Optional<Mqtt3Publish> receive() {
            try {
                return received.receive(5, SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        /** The watcher still publishes and receives, and nothing was routed to it before its probe. */
        void assertWatcherUnaffected() {
            String topic = "probe/" + probes.incrementAndGet();
            watcher.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).payload(new byte[] {1}).send();
            Optional<Mqtt3Publish> first = receive();
            assertThat(first).as("the watcher receives its probe").isPresent();
            assertThat(first.get().getTopic().toString()).isEqualTo(topic);
        }

        @Override
        public void close() {
            if (watcher.getState().isConnected()) {
                watcher.disconnect();
            }
            platform.close();
        }
    }

    @BeforeAll
    static void start() {
        small = Fleet.start(dataDir.resolve("small"), Map.of("mqtt.max-packet-bytes", "1024"));
    }

    @AfterAll
    static void stop() {
        if (small != null) {
            small.close();
        }
    }

    @ParameterizedTest(name = "payload of {0} bytes")
    @ValueSource(ints = {900, 1024 - PUBLISH_OVERHEAD})
    void publish_within_the_limit_is_delivered_D14(int payloadBytes) throws IOException {
        try (RawMqtt raw = small.loggedInPublisher()) {
            byte[] payload = payload(payloadBytes);
            raw.send(RawMqtt.publishPacket(TOPIC, 0, 0, payload));

            Optional<Mqtt3Publish> delivered = small.receive();
            assertThat(delivered).isPresent();
            assertThat(delivered.get().getTopic().toString()).isEqualTo(TOPIC);
            assertThat(delivered.get().getPayloadAsBytes()).isEqualTo(payload);
            raw.sendHex("E0 00");
        }
    }

    @ParameterizedTest(name = "payload of {0} bytes")
    @ValueSource(ints = {2000, 1024 - PUBLISH_OVERHEAD + 1})
    void publish_over_the_limit_closes_connection_D14(int payloadBytes) throws IOException {
        try (RawMqtt raw = small.loggedInPublisher()) {
            send(raw, RawMqtt.publishPacket(TOPIC, 0, 0, payload(payloadBytes)));

            assertThat(raw.closedWithin(5000)).isTrue();
            String address = "127.0.0.1:" + raw.localPort();
            log.await("[" + small.publisher().id() + "] ", address,
                    "closed: packet of " + (payloadBytes + PUBLISH_OVERHEAD) + " bytes is over mqtt.max-packet-bytes (1024)");
            small.assertWatcherUnaffected();
            assertThat(log.lines(address)).hasSize(1);
        }
    }

    @Test
    void default_limit_is_4_mib_D14(@TempDir Path defaultDir) throws IOException {
        try (Fleet fleet = Fleet.start(defaultDir, Map.of())) {
            try (RawMqtt raw = fleet.loggedInPublisher()) {
                byte[] payload = payload(1024 * 1024);
                raw.send(RawMqtt.publishPacket(TOPIC, 0, 0, payload));

                Optional<Mqtt3Publish> delivered = fleet.receive();
                assertThat(delivered).as("1 MiB is delivered").isPresent();
                assertThat(delivered.get().getPayloadAsBytes()).isEqualTo(payload);
                raw.sendHex("E0 00");
            }
            try (RawMqtt raw = fleet.loggedInPublisher()) {
                send(raw, RawMqtt.publishPacket(TOPIC, 0, 0, payload(4 * 1024 * 1024 + 1024)));

                assertThat(raw.closedWithin(5000)).as("4 MiB + 1 KiB closes the connection").isTrue();
                log.await("127.0.0.1:" + raw.localPort(),
                        "closed: packet of " + (4 * 1024 * 1024 + 1024 + PUBLISH_OVERHEAD) + " bytes is over mqtt.max-packet-bytes (4194304)");
                fleet.assertWatcherUnaffected();
            }
        }
    }

    /** Sends a packet the server may refuse before reading it all: its close can fail the rest of the write. */
    private static void send(RawMqtt raw, byte[] packet) {
        try {
            raw.send(packet);
        } catch (IOException e) {
            // Broken pipe or reset: the server closed while the packet was still being written.
        }
    }

    private static byte[] payload(int bytes) {
        byte[] payload = new byte[bytes];
        Arrays.fill(payload, (byte) 'x');
        return payload;
    }
}
