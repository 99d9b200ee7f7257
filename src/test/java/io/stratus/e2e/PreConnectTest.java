package io.stratus.e2e;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.e2e.RawMqtt.Packet;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
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
 * What happens before a client is logged in (D20 in docs/decisions.md, [MQTT-3.1.0-1]): the first packet must be a
 * CONNECT, nothing else is processed before it, a silent connection is closed after
 * {@code mqtt.connect-timeout-seconds}, packets pipelined after a CONNECT run once it succeeds and never after it is
 * refused.
 */
class PreConnectTest {
    private static final byte[] HELLO = "hello".getBytes(StandardCharsets.UTF_8);

    @TempDir
    static Path dataDir;
    static TestPlatform platform;
    static TestDevice device;
    /** A device of another product, whose messages the bystander cannot see. */
    static TestDevice echoDevice;
    /** A logged-in HiveMQ client subscribed to {@code #}: it would see anything routed by mistake. */
    static Mqtt3BlockingClient bystander;
    static Mqtt3BlockingClient.Mqtt3Publishes received;
    static final AtomicInteger probes = new AtomicInteger();

    @RegisterExtension
    final LogCapture log = LogCapture.mqttConnection();

    /** A packet sent as the first packet of a connection. */
    record FirstPacket(String name, byte[] bytes) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<FirstPacket> notConnect() {
        return Stream.of(
                new FirstPacket("SUBSCRIBE", RawMqtt.subscribePacket(1, "#", 1)),
                new FirstPacket("PUBLISH", RawMqtt.publishPacket("early/publish", 1, 1, HELLO)),
                new FirstPacket("PINGREQ", hex("C0 00")));
    }

    @BeforeAll
    static void start() throws Exception {
        platform = TestPlatform.start(dataDir, Map.of("mqtt.connect-timeout-seconds", "1"));
        TestProduct product = platform.createProduct("pre-connect");
        device = platform.createDevice(product, "device", "device-sn");
        TestDevice watcher = platform.createDevice(product, "watcher", "watcher-sn");
        echoDevice = platform.createDevice(platform.createProduct("pre-connect-echo"), "echo", "echo-sn");
        bystander = Mqtt3Client.builder().identifier(watcher.id()).serverHost("127.0.0.1").serverPort(platform.mqttPort())
                .simpleAuth().username(product.id()).password(watcher.authInfo().getBytes(StandardCharsets.UTF_8)).applySimpleAuth()
                .buildBlocking();
        bystander.connectWith().cleanSession(true).keepAlive(60).send();
        received = bystander.publishes(MqttGlobalPublishFilter.ALL);
        bystander.subscribeWith().topicFilter("#").qos(MqttQos.AT_LEAST_ONCE).send();
    }

    @AfterAll
    static void stop() {
        if (bystander != null && bystander.getState().isConnected()) {
            bystander.disconnect();
        }
        if (platform != null) {
            platform.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("notConnect")
    void first_packet_other_than_connect_closes_connection_unprocessed_MQTT_3_1_0_1(FirstPacket first) throws IOException {
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            raw.send(first.bytes());

            assertThat(raw.packetsUntilClosed(5000)).as("no reply to a packet before CONNECT").isEmpty();
            String address = "127.0.0.1:" + raw.localPort();
            log.await(address, "closed: first packet must be CONNECT, got " + first.name());
            assertNothingRoutedBefore();
            assertThat(log.lines(address)).hasSize(1);
        }
    }

    @Test
    void silent_connection_is_closed_after_connect_timeout() throws IOException {
        long started = System.nanoTime();
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            assertThat(raw.closedWithin(5000)).as("closed without a CONNECT").isTrue();
            long elapsedMillis = (System.nanoTime() - started) / 1_000_000;

            assertThat(elapsedMillis).as("closed after mqtt.connect-timeout-seconds=1").isBetween(900L, 4000L);
            String address = "127.0.0.1:" + raw.localPort();
            log.await(address, "closed: no CONNECT within 1000 ms");
            assertThat(log.lines(address)).hasSize(1);
        }
    }

    @Test
    void packets_pipelined_after_connect_are_processed_in_order_D20() throws IOException {
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            // CONNECT, SUBSCRIBE and PUBLISH in one write: the server reads them before the CONNECT is handled.
            raw.send(concat(
                    RawMqtt.connectPacket(4, echoDevice.id(), echoDevice.productId(), echoDevice.authInfo(), 60, true),
                    RawMqtt.subscribePacket(7, "echo/pipelined", 0),
                    RawMqtt.publishPacket("echo/pipelined", 0, 0, HELLO)));

            Packet connack = raw.read();
            assertThat(connack.type()).as("CONNACK").isEqualTo(2);
            assertThat(connack.body()).containsExactly(0, 0);
            Packet suback = raw.read();
            assertThat(suback.type()).as("SUBACK").isEqualTo(9);
            assertThat(suback.body()).containsExactly(0, 7, 0);
            Packet own = raw.read();
            assertThat(own.type()).as("the client's own PUBLISH").isEqualTo(3);
            assertThat(own.body()).isEqualTo(concat(hex("00 0E"), "echo/pipelined".getBytes(StandardCharsets.UTF_8), HELLO));
            raw.sendHex("E0 00");
        }
    }

    @Test
    void packets_pipelined_after_a_refused_connect_are_not_processed_D20() throws IOException {
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            raw.send(concat(
                    RawMqtt.connectPacket(4, device.id(), device.productId(), "wrong-password", 60, true),
                    RawMqtt.subscribePacket(7, "#", 0),
                    RawMqtt.publishPacket("refused/publish", 1, 1, HELLO)));

            List<Packet> packets = raw.packetsUntilClosed(5000);
            assertThat(packets).as("only the CONNACK").hasSize(1);
            assertThat(packets.get(0).type()).isEqualTo(2);
            assertThat(packets.get(0).body()).as("CONNACK 4: bad user name or password").containsExactly(0, 4);
            String address = "127.0.0.1:" + raw.localPort();
            log.await("[" + device.id() + "] ", address, "refused with CONNACK 4");
            assertNothingRoutedBefore();
            assertThat(log.lines(address)).hasSize(1);
        }
    }

    @Test
    void connect_with_unknown_protocol_name_gets_connack_1_MQTT_3_1_2_1() throws IOException {
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            byte[] connect = RawMqtt.connectPacket(4, device.id(), device.productId(), device.authInfo(), 60, true);
            connect[7] = 'X'; // "MQTT" -> "MQTX", level 4
            raw.send(connect);

            // Netty's decoder reports a protocol name that does not match the level as an unacceptable protocol
            // version, before any field of the payload is read; the server refuses it like an unsupported level.
            List<Packet> packets = raw.packetsUntilClosed(5000);
            assertThat(packets).as("only the CONNACK").hasSize(1);
            assertThat(packets.get(0).type()).isEqualTo(2);
            assertThat(packets.get(0).body()).as("CONNACK 1: unacceptable protocol version").containsExactly(0, 1);
            String address = "127.0.0.1:" + raw.localPort();
            log.await("[-] ", address, "refused with CONNACK 1");
            assertThat(log.lines(address)).hasSize(1);
        }
    }

    @Test
    void connect_with_protocol_level_5_gets_connack_1_MQTT_3_1_2_2() throws IOException {
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            // As an MQTT 5 client sends it: level 5 and a property list (here empty) after the keep-alive.
            raw.send(connect("00 04 4D 51 54 54 05 C2 00 3C 00", device.id(), device.productId(), device.authInfo()));

            List<Packet> packets = raw.packetsUntilClosed(5000);
            assertThat(packets).as("only the CONNACK").hasSize(1);
            assertThat(packets.get(0).type()).isEqualTo(2);
            // A 3.1.1 CONNACK, the only kind this server speaks: no MQTT 5 properties.
            assertThat(packets.get(0).body()).as("CONNACK 1: unacceptable protocol version").containsExactly(0, 1);
            String address = "127.0.0.1:" + raw.localPort();
            log.await(address, "refused with CONNACK 1");
            assertThat(log.lines(address)).hasSize(1);
        }
    }

    // ---- mqtt.max-connect-bytes -------------------------------------------------------------------------

    @Test
    void a_100_kb_publish_before_connect_is_closed_after_at_most_max_connect_bytes() throws IOException {
        long before = MonitoringTest.metric(platform, "stratus_mqtt_oversize_before_connect_total");
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            byte[] publish = RawMqtt.publishPacket("early/big", 1, 1, new byte[100 * 1024]);
            // Only the first 1000 bytes are sent: the server must not wait for (and hold) the other 99 KiB.
            raw.send(java.util.Arrays.copyOf(publish, 1000));

            assertThat(raw.packetsUntilClosed(5000)).as("closed without a reply").isEmpty();
            String address = "127.0.0.1:" + raw.localPort();
            log.await(address, "closed: packet of " + (publish.length - 4) + " bytes before CONNECT is over mqtt.max-connect-bytes (8192)");
            assertThat(log.lines(address)).hasSize(1);
        }
        assertThat(MonitoringTest.metric(platform, "stratus_mqtt_oversize_before_connect_total")).isEqualTo(before + 1);
        assertNothingRoutedBefore();
    }

    @Test
    void a_connect_with_a_will_over_max_connect_bytes_is_closed_without_connack() throws IOException {
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            raw.send(Clients.connectWithWill(device, 60, "will/" + device.id(), new byte[9 * 1024], 1, false));

            assertThat(raw.packetsUntilClosed(5000)).as("no CONNACK").isEmpty();
            log.await("127.0.0.1:" + raw.localPort(), "before CONNECT is over mqtt.max-connect-bytes (8192)");
        }
    }

    @Test
    void after_connack_a_pipelined_100_kb_publish_is_read_whole() throws IOException {
        byte[] big = new byte[100 * 1024];
        java.util.Arrays.fill(big, (byte) 'b');
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            raw.send(concat(
                    RawMqtt.connectPacket(4, echoDevice.id(), echoDevice.productId(), echoDevice.authInfo(), 60, true),
                    RawMqtt.subscribePacket(7, "echo/big", 0),
                    RawMqtt.publishPacket("echo/big", 0, 0, big)));

            assertThat(raw.read().type()).as("CONNACK").isEqualTo(2);
            assertThat(raw.read().type()).as("SUBACK").isEqualTo(9);
            Packet own = raw.read();
            assertThat(own.type()).as("the client's own PUBLISH").isEqualTo(3);
            assertThat(own.body()).hasSize(2 + "echo/big".length() + big.length);
            raw.sendHex("E0 00");
        }
    }

    /** The next message the bystander receives is a probe published now: nothing was routed before it. */
    private static void assertNothingRoutedBefore() {
        String topic = "probe/" + probes.incrementAndGet();
        bystander.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).payload(HELLO).send();
        Optional<Mqtt3Publish> first;
        try {
            first = received.receive(5, SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        assertThat(first).as("the bystander receives its probe").isPresent();
        assertThat(first.get().getTopic().toString()).isEqualTo(topic);
    }

    /** A CONNECT with the given variable header (user name and password flags set) and payload strings. */
    private static byte[] connect(String variableHeaderHex, String clientId, String username, String password) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(hex(variableHeaderHex));
        for (String s : List.of(clientId, username, password)) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            body.write(b.length >> 8);
            body.write(b.length & 0xFF);
            body.writeBytes(b);
        }
        return RawMqtt.packet(0x10, body.toByteArray());
    }

    private static byte[] hex(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
