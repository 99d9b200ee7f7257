package io.stratus.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttClientTransportConfig;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient.Mqtt3Publishes;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAck;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;

/**
 * Real MQTT clients logged in as test devices: the HiveMQ client, Paho options, and {@link RawMqtt} with the
 * few packets these tests build and parse by hand (withheld acks, wills, DUP flags, session present).
 */
final class Clients {
    static final int PUBLISH = 3;
    static final int PUBACK = 4;
    static final int PUBREC = 5;
    static final int PUBREL = 6;
    static final int PUBCOMP = 7;
    static final int SUBACK = 9;
    static final int UNSUBACK = 11;
    static final int PINGRESP = 13;

    private Clients() {
    }

    // ---- HiveMQ --------------------------------------------------------------------------------------

    /** A HiveMQ client (not yet connected) with the OneNET login of {@code device}. */
    static Mqtt3BlockingClient hivemq(TestPlatform platform, TestDevice device) {
        return hivemq(platform, device.id(), device.productId(), device.authInfo());
    }

    static Mqtt3BlockingClient hivemq(TestPlatform platform, String clientId, String username, String password) {
        var builder = Mqtt3Client.builder().identifier(clientId).serverHost("127.0.0.1").serverPort(platform.mqttPort());
        if (username != null) {
            builder = builder.simpleAuth().username(username).password(password.getBytes(UTF_8)).applySimpleAuth();
        }
        return builder.buildBlocking();
    }

    static Mqtt3ConnAck connect(Mqtt3BlockingClient client, boolean cleanSession) {
        return client.connectWith().cleanSession(cleanSession).keepAlive(30).send();
    }

    /** The next message, failing the test when none arrives within 5 s. */
    static Mqtt3Publish next(Mqtt3Publishes publishes) throws InterruptedException {
        return publishes.receive(5, SECONDS).orElseThrow(() -> new AssertionError("no message within 5 s"));
    }

    static String text(Mqtt3Publish p) {
        return new String(p.getPayloadAsBytes(), UTF_8);
    }

    /**
     * The return code of the CONNACK a HiveMQ client gets over {@code transport} (0: logged in, then disconnected), for
     * tests of who is refused: a refused CONNECT's code instead of its exception.
     */
    static int connAckCode(MqttClientTransportConfig transport, String clientId, String username, String password) {
        Mqtt3BlockingClient client = MqttClient.builder().useMqttVersion3().identifier(clientId).transportConfig(transport)
                .buildBlocking();
        try {
            Mqtt3ConnAck ack = client.connectWith().simpleAuth().username(username).password(password.getBytes(UTF_8))
                    .applySimpleAuth().send();
            client.disconnect();
            return ack.getReturnCode().getCode();
        } catch (Mqtt3ConnAckException refused) {
            return refused.getMqttMessage().getReturnCode().getCode();
        }
    }

    // ---- Paho ----------------------------------------------------------------------------------------

    static MqttConnectOptions pahoOptions(TestDevice device, boolean cleanSession) {
        return pahoOptions(device.productId(), device.authInfo(), cleanSession);
    }

    static MqttConnectOptions pahoOptions(String username, String password, boolean cleanSession) {
        MqttConnectOptions o = new MqttConnectOptions();
        if (username != null) {
            o.setUserName(username);
            o.setPassword(password.toCharArray());
        }
        o.setCleanSession(cleanSession);
        o.setAutomaticReconnect(false);
        o.setKeepAliveInterval(30);
        o.setConnectionTimeout(5);
        // Paho frees an in-flight slot on its callback thread, after a blocking publish has returned: back-to-back
        // QoS 1 publishes can otherwise hit its default limit of 10 ("Too many publishes in progress").
        o.setMaxInflight(100);
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        return o;
    }

    // ---- RawMqtt -------------------------------------------------------------------------------------

    /** A PUBLISH read from the server by a {@link RawMqtt}. */
    record Publish(int flags, String topic, int packetId, byte[] payload) {
        static Publish of(RawMqtt.Packet p) {
            assertThat(p.type()).as("packet type").isEqualTo(PUBLISH);
            ByteBuffer b = ByteBuffer.wrap(p.body());
            byte[] topic = new byte[b.getShort() & 0xFFFF];
            b.get(topic);
            int flags = p.header() & 0x0F;
            int packetId = ((flags >> 1) & 3) > 0 ? b.getShort() & 0xFFFF : 0;
            byte[] payload = Arrays.copyOfRange(p.body(), b.position(), p.body().length);
            return new Publish(flags, new String(topic, UTF_8), packetId, payload);
        }

        int qos() {
            return (flags >> 1) & 3;
        }

        boolean dup() {
            return (flags & 0x08) != 0;
        }

        boolean retain() {
            return (flags & 0x01) != 0;
        }

        String text() {
            return new String(payload, UTF_8);
        }
    }

    /** A CONNACK: its session-present flag and return code. */
    record ConnAck(boolean sessionPresent, int returnCode) {}

    /** Opens a socket and logs {@code device} in; fails the test unless the CONNACK accepts it. */
    static RawMqtt raw(TestPlatform platform, TestDevice device, boolean cleanSession, int keepAlive) throws IOException {
        RawMqtt raw = new RawMqtt(platform.mqttPort());
        ConnAck ack = connect(raw, RawMqtt.connectPacket(4, device.id(), device.productId(), device.authInfo(), keepAlive, cleanSession));
        assertThat(ack.returnCode()).as("CONNACK return code").isZero();
        return raw;
    }

    static ConnAck connect(RawMqtt raw, byte[] connectPacket) throws IOException {
        raw.send(connectPacket);
        RawMqtt.Packet p = raw.read();
        assertThat(p.type()).as("CONNACK expected").isEqualTo(2);
        return new ConnAck((p.body()[0] & 1) == 1, p.body()[1]);
    }

    /** Reads the next packet, which must be a PUBLISH. */
    static Publish readPublish(RawMqtt raw) throws IOException {
        return Publish.of(raw.read());
    }

    /** Subscribes to one filter and returns the SUBACK return code. */
    static int subscribe(RawMqtt raw, int packetId, String filter, int qos) throws IOException {
        raw.send(RawMqtt.subscribePacket(packetId, filter, qos));
        RawMqtt.Packet p = raw.read();
        assertThat(p.type()).as("SUBACK expected").isEqualTo(SUBACK);
        assertThat(((p.body()[0] & 0xFF) << 8) | (p.body()[1] & 0xFF)).as("SUBACK packet id").isEqualTo(packetId);
        return p.body()[2] & 0xFF;
    }

    /** PUBACK, PUBREC, PUBREL or PUBCOMP for {@code packetId} (PUBREL has the flags 0010). */
    static byte[] ack(int type, int packetId) {
        int header = type << 4 | (type == PUBREL ? 0x02 : 0);
        return new byte[] {(byte) header, 2, (byte) (packetId >> 8), (byte) packetId};
    }

    /** Reads the next packet and checks it is the acknowledgement {@code type} of {@code packetId}. */
    static void expectAck(RawMqtt raw, int type, int packetId) throws IOException {
        RawMqtt.Packet p = raw.read();
        assertThat(p.type()).as("packet type").isEqualTo(type);
        assertThat(((p.body()[0] & 0xFF) << 8) | (p.body()[1] & 0xFF)).as("packet id").isEqualTo(packetId);
    }

    /** PINGREQ, then the next packet must be PINGRESP ({@code D0 00}). */
    static void ping(RawMqtt raw) throws IOException {
        raw.sendHex("C0 00");
        RawMqtt.Packet p = raw.read();
        assertThat(p.header()).as("PINGRESP").isEqualTo(0xD0);
        assertThat(p.body()).isEmpty();
    }

    /** A CONNECT of {@code device} with a will [MQTT-3.1.2-9]. */
    static byte[] connectWithWill(TestDevice device, int keepAlive, String willTopic, byte[] willPayload, int willQos,
            boolean willRetain) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        writeString(b, "MQTT".getBytes(UTF_8));
        b.write(4);
        b.write(0xC0 | (willRetain ? 0x20 : 0) | willQos << 3 | 0x04 | 0x02);
        b.write(keepAlive >> 8);
        b.write(keepAlive);
        writeString(b, device.id().getBytes(UTF_8));
        writeString(b, willTopic.getBytes(UTF_8));
        writeString(b, willPayload);
        writeString(b, device.productId().getBytes(UTF_8));
        writeString(b, device.authInfo().getBytes(UTF_8));
        return RawMqtt.packet(0x10, b.toByteArray());
    }

    private static void writeString(ByteArrayOutputStream out, byte[] bytes) {
        out.write(bytes.length >> 8);
        out.write(bytes.length);
        out.writeBytes(bytes);
    }

    // ---- fixtures ------------------------------------------------------------------------------------

    /** A device with a fresh, unique auth_info. */
    static TestDevice device(TestPlatform platform, TestProduct product, String title) {
        return platform.createDevice(product, title, title + "-" + System.nanoTime());
    }

    /** Whether GET /devices/{id} reports the device online. */
    static boolean online(TestPlatform platform, TestProduct product, TestDevice device) {
        TestPlatform.Reply r = platform.withKey(product.masterKey(), "GET", "/devices/" + device.id(), null);
        assertThat(r.errno()).as("GET /devices/%s: %s", device.id(), r.body()).isZero();
        return r.data().path("online").asBoolean();
    }
}
