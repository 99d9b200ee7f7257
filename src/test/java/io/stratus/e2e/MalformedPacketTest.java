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
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Protocol violations by a logged-in client: each one closes that client's connection with one log line naming its
 * address and the reason, and leaves every other connection working. The violating client is a real device.
 */
class MalformedPacketTest {
    @TempDir
    static Path dataDir;
    static TestPlatform platform;
    static TestDevice offender;
    /** A well-behaved HiveMQ client subscribed to {@code #}: it also sees anything a violation wrongly routed. */
    static Mqtt3BlockingClient bystander;
    static Mqtt3BlockingClient.Mqtt3Publishes received;
    /** A well-behaved raw client that keeps pinging. */
    static RawMqtt pinger;
    static final AtomicInteger probes = new AtomicInteger();

    @RegisterExtension
    final LogCapture log = LogCapture.mqttConnection();

    /** One violation: the bytes sent after a successful CONNECT and a fragment of the logged reason. */
    record Violation(String name, String hex, String reason) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Violation> violations() {
        return Stream.of(
                // section 2.2.3: the remaining length has at most four bytes
                new Violation("remaining length of five bytes", "30 FF FF FF FF 7F", "remaining length"),
                // [MQTT-1.5.3-1] strings are well-formed UTF-8. Netty 4.2's decoder validates strictly and fails the
                // packet, so malformed bytes never reach Topics as U+FFFD.
                new Violation("ill-formed UTF-8 C3 28 in a PUBLISH topic", "30 05 00 02 C3 28 78", "invalid UTF-8"),
                new Violation("overlong UTF-8 C0 AF in a PUBLISH topic", "30 05 00 02 C0 AF 78", "invalid UTF-8"),
                new Violation("UTF-16 surrogate ED A0 80 in a PUBLISH topic", "30 06 00 03 ED A0 80 78", "invalid UTF-8"),
                new Violation("ill-formed UTF-8 C3 28 in a SUBSCRIBE filter", "82 07 00 01 00 02 C3 28 00", "invalid UTF-8"),
                // [MQTT-1.5.3-2] no U+0000 in a string
                new Violation("U+0000 in a PUBLISH topic", "30 06 00 03 61 00 62 78", "U+0000"),
                // [MQTT-3.3.2-2] no wildcards in a topic name
                new Violation("'+' in a PUBLISH topic", "30 06 00 03 61 2F 2B 78", "contains wildcards"),
                new Violation("'#' in a PUBLISH topic", "30 06 00 03 61 2F 23 78", "contains wildcards"),
                // [MQTT-2.2.2-2] reserved flags
                // (flags 0000 on SUBSCRIBE, UNSUBSCRIBE and PUBREL are OneNET's and accepted: OneNetHeaderFlagsTest)
                new Violation("SUBSCRIBE with flags 0100", "84 08 00 01 00 03 61 2F 62 00", "fixed header of SUBSCRIBE"),
                new Violation("UNSUBSCRIBE with flags 0001", "A1 07 00 01 00 03 61 2F 62", "fixed header of UNSUBSCRIBE"),
                new Violation("PUBREL with flags 0100", "64 02 00 01", "fixed header of PUBREL"),
                new Violation("PINGREQ with flags 0001", "C1 00", "fixed header of PINGREQ"),
                new Violation("PUBLISH with QoS 3", "36 08 00 03 61 2F 62 00 01 78", "fixed header of PUBLISH"), // [MQTT-3.3.1-4]
                new Violation("PUBLISH with QoS 0 and DUP", "38 06 00 03 61 2F 62 78", "QoS 0 and DUP"), // [MQTT-3.3.1-2]
                // section 2.2.1: packet types 0 and 15 are reserved in 3.1.1 (Netty knows 15 as MQTT 5 AUTH)
                new Violation("packet type 0", "00 00", "unknown message type"),
                new Violation("packet type 15", "F0 00", "AUTH"),
                new Violation("SUBSCRIBE without topic filters", "82 02 00 01", "SUBSCRIBE without topic filters"), // [MQTT-3.8.3-3]
                new Violation("UNSUBSCRIBE without topic filters", "A2 02 00 01", "UNSUBSCRIBE without topic filters"), // [MQTT-3.10.3-2]
                new Violation("CONNACK from a client", "20 02 00 00", "unexpected CONNACK"),
                new Violation("SUBACK from a client", "90 03 00 01 00", "unexpected SUBACK"));
    }

    @BeforeAll
    static void start() throws Exception {
        platform = TestPlatform.start(dataDir);
        TestProduct product = platform.createProduct("malformed");
        offender = platform.createDevice(product, "offender", "offender-sn");
        TestDevice watcher = platform.createDevice(product, "watcher", "watcher-sn");
        TestDevice ping = platform.createDevice(product, "pinger", "pinger-sn");
        bystander = Mqtt3Client.builder().identifier(watcher.id()).serverHost("127.0.0.1").serverPort(platform.mqttPort())
                .simpleAuth().username(product.id()).password(watcher.authInfo().getBytes(StandardCharsets.UTF_8)).applySimpleAuth()
                .buildBlocking();
        bystander.connectWith().cleanSession(true).keepAlive(60).send();
        received = bystander.publishes(MqttGlobalPublishFilter.ALL);
        bystander.subscribeWith().topicFilter("#").qos(MqttQos.AT_LEAST_ONCE).send();
        pinger = new RawMqtt(platform.mqttPort());
        assertThat(pinger.connect(ping.id(), product.id(), ping.authInfo(), 60, true)).isZero();
    }

    @AfterAll
    static void stop() throws Exception {
        if (pinger != null) {
            pinger.sendHex("E0 00");
            pinger.close();
        }
        if (bystander != null && bystander.getState().isConnected()) {
            bystander.disconnect();
        }
        if (platform != null) {
            platform.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("violations")
    void violation_closes_only_the_offending_connection(Violation v) throws IOException {
        try (RawMqtt raw = loggedInOffender(60)) {
            raw.sendHex(v.hex());

            assertThat(raw.closedWithin(5000)).as("closed after %s", v).isTrue();
            assertClosedWithOneLine(raw, "closed: ", v.reason());
        }
    }

    @Test
    void second_connect_closes_connection_MQTT_3_1_0_2() throws IOException {
        try (RawMqtt raw = loggedInOffender(60)) {
            raw.send(RawMqtt.connectPacket(4, offender.id(), offender.productId(), offender.authInfo(), 60, true));

            assertThat(raw.packetsUntilClosed(5000)).as("no second CONNACK").isEmpty();
            assertClosedWithOneLine(raw, "closed: ", "second CONNECT");
        }
    }

    @Test
    void end_of_stream_inside_a_packet_closes_connection() throws IOException {
        try (RawMqtt raw = loggedInOffender(60)) {
            // A PUBLISH whose remaining length (100) promises more than the 7 bytes that follow, then end of stream.
            raw.sendHex("30 64 00 03 61 2F 62 78 79");
            raw.shutdownOutput();

            assertThat(raw.closedWithin(5000)).isTrue();
            assertClosedWithOneLine(raw, "connection lost");
        }
    }

    @Test
    void truncated_packet_then_silence_is_closed_by_keep_alive_MQTT_3_1_2_24() throws IOException {
        try (RawMqtt raw = loggedInOffender(1)) {
            // The stalled bytes of an unfinished packet are not a control packet, so they do not count as activity.
            raw.sendHex("30 64 00 03 61 2F 62 78 79");

            assertThat(raw.closedWithin(5000)).as("closed after 1.5 x keep-alive").isTrue();
            assertClosedWithOneLine(raw, "closed: ", "keep-alive timeout");
        }
    }

    private static RawMqtt loggedInOffender(int keepAlive) throws IOException {
        RawMqtt raw = new RawMqtt(platform.mqttPort());
        assertThat(raw.connect(offender.id(), offender.productId(), offender.authInfo(), keepAlive, true)).isZero();
        return raw;
    }

    /** One log line names the closed client's address, with the reason; the other clients still work. */
    private void assertClosedWithOneLine(RawMqtt raw, String... reason) throws IOException {
        String address = "127.0.0.1:" + raw.localPort();
        String[] parts = Stream.concat(Stream.of("[" + offender.id() + "] ", address), Stream.of(reason)).toArray(String[]::new);
        log.await(parts);
        assertOthersUnaffected();
        assertThat(log.lines(address)).as("log lines naming %s", address).hasSize(1);
    }

    private static void assertOthersUnaffected() throws IOException {
        pinger.sendHex("C0 00");
        assertThat(pinger.read().header()).as("PINGRESP").isEqualTo(0xD0);

        String topic = "probe/" + probes.incrementAndGet();
        bystander.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).payload("ok".getBytes(StandardCharsets.UTF_8)).send();
        Optional<Mqtt3Publish> first = receive();
        // The first message after the violation is the probe: the violating packet was not routed.
        assertThat(first).as("the bystander receives its probe").isPresent();
        assertThat(first.get().getTopic().toString()).isEqualTo(topic);
    }

    private static Optional<Mqtt3Publish> receive() {
        try {
            return received.receive(5, SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
