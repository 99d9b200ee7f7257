package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import io.stratus.tls.TestCertificates;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MQTT over WebSocket at {@code /mqtt} (subprotocol {@code mqtt}) on {@code mqtt.ws-port} and, with TLS,
 * {@code mqtt.wss-port}: Eclipse Paho over {@code ws://} and {@code wss://} talks to a TCP client of the same product; a
 * packet split across frames and several packets in one frame are read as the byte stream they are; a frame over
 * {@code mqtt.max-packet-bytes}, a text frame and another path are refused.
 */
class WebSocketTest {
    @TempDir
    Path dir;

    @Test
    void paho_over_ws_and_wss_exchanges_messages_with_a_tcp_client() throws Exception {
        TestCertificates ca = TestCertificates.authority(dir.resolve("ca"), "Stratus Test CA");
        TestCertificates.Pem server = ca.server("server");
        Map<String, String> settings = Map.of("mqtt.ws-port", "0", "mqtt.wss-port", "0", "tls.cert", server.cert().toString(),
                "tls.key", server.key().toString());
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), settings)) {
            TestProduct product = platform.createProduct("ws");
            TestDevice tcp = Clients.device(platform, product, "tcp");
            try (PahoClient listener = PahoClient.connected(platform, tcp, true)) {
                listener.subscribe("greenhouse/#", 1);
                int ws = platform.platform().mqttWebSocketPort();
                int wss = platform.platform().mqttSecureWebSocketPort();
                SSLContext trusting = TestCertificates.clientContext(ca.caCert(), null);
                for (String uri : new String[] {"ws://127.0.0.1:" + ws + "/mqtt", "wss://127.0.0.1:" + wss + "/mqtt"}) {
                    WebSocketChecks.pahoExchanges(platform, product, listener, uri,
                            uri.startsWith("wss") ? trusting : null);
                }
            }
        }
    }

    @Test
    void frames_are_a_byte_stream_and_oversized_or_text_frames_and_other_paths_are_refused() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), Map.of("mqtt.ws-port", "0",
                "mqtt.max-packet-bytes", "2048"))) {
            TestProduct product = platform.createProduct("frames");
            URI uri = URI.create("ws://127.0.0.1:" + platform.platform().mqttWebSocketPort() + "/mqtt");

            WebSocketFrames raw = WebSocketChecks.framesAreAByteStream(platform, product, uri);

            // A frame larger than mqtt.max-packet-bytes: closed with 1009 (message too big).
            raw.socket.sendBinary(ByteBuffer.wrap(new byte[4096]), true).join();
            assertThat(raw.closed.get(5, TimeUnit.SECONDS)).isEqualTo(1009);

            // A text frame: closed with 1003 (MQTT is binary).
            WebSocketFrames text = WebSocketFrames.open(uri);
            text.socket.sendText("not mqtt", true).join();
            assertThat(text.closed.get(5, TimeUnit.SECONDS)).isEqualTo(1003);

            HttpResponse<String> other = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + platform.platform().mqttWebSocketPort() + "/other")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(other.statusCode()).isEqualTo(404);
        }
    }
}
