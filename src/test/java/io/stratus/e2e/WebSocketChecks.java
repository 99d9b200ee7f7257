package io.stratus.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import javax.net.ssl.SSLContext;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/** What MQTT over WebSocket must do wherever it is served: the dedicated ports and the HTTP ports' {@code /mqtt}. */
final class WebSocketChecks {
    private WebSocketChecks() {
    }

    /**
     * A new device of {@code product} logs in with Paho at {@code uri} ({@code tls} for wss, else null), publishes to
     * {@code greenhouse/air} what {@code listener} (subscribed to it) receives, and uploads a {@code $dp} point.
     */
    static void pahoExchanges(TestPlatform platform, TestProduct product, PahoClient listener, String uri, SSLContext tls)
            throws Exception {
        TestDevice browser = Clients.device(platform, product, "browser");
        MqttClient client = new MqttClient(uri, browser.id(), new MemoryPersistence());
        MqttConnectOptions o = Clients.pahoOptions(browser, true);
        if (tls != null) {
            o.setSocketFactory(tls.getSocketFactory());
        }
        client.connect(o);
        client.publish("greenhouse/air", ("from " + uri).getBytes(UTF_8), 1, false);
        assertThat(new String(listener.next().message().getPayload(), UTF_8)).isEqualTo("from " + uri);
        client.publish("$dp", Points.dp(3, "{\"level\":5}"), 1, false);
        client.disconnect();
        client.close();
        assertThat(platform.withKey(product.masterKey(), "GET", "/devices/" + browser.id() + "/datapoints", null)
                .data().path("count").asInt()).as("points stored from %s", uri).isEqualTo(1);
    }

    /**
     * A raw client at {@code uri} sends CONNECT in two frames (a continuation), then SUBSCRIBE and PUBLISH in one
     * frame, and gets CONNACK, SUBACK and its own message: frames are a byte stream. Returns the open client.
     */
    static WebSocketFrames framesAreAByteStream(TestPlatform platform, TestProduct product, URI uri) throws Exception {
        TestDevice device = Clients.device(platform, product, "raw");
        WebSocketFrames raw = WebSocketFrames.open(uri);
        assertThat(raw.socket.getSubprotocol()).isEqualTo("mqtt");
        byte[] connect = RawMqtt.connectPacket(4, device.id(), product.id(), device.authInfo(), 30, true);
        raw.socket.sendBinary(ByteBuffer.wrap(connect, 0, 7), false).join();
        raw.socket.sendBinary(ByteBuffer.wrap(connect, 7, connect.length - 7), true).join();
        await().atMost(Duration.ofSeconds(5)).until(() -> raw.received().length >= 4);
        assertThat(Arrays.copyOf(raw.received(), 4)).as("CONNACK 0").containsExactly(0x20, 2, 0, 0);
        ByteArrayOutputStream two = new ByteArrayOutputStream();
        two.writeBytes(RawMqtt.subscribePacket(1, "t/+", 0));
        two.writeBytes(RawMqtt.publishPacket("t/1", 0, 0, "hello".getBytes(UTF_8)));
        raw.socket.sendBinary(ByteBuffer.wrap(two.toByteArray()), true).join();
        await().atMost(Duration.ofSeconds(5)).until(() -> new String(raw.received(), UTF_8).contains("hello"));
        assertThat(raw.received()[4] & 0xFF).as("SUBACK after CONNACK").isEqualTo(0x90);
        return raw;
    }
}
