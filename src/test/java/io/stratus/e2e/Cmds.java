package io.stratus.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient.Mqtt3Publishes;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** Commands in end-to-end tests (protocol §4, see docs/decisions.md): the HTTP side and a device that answers them. */
final class Cmds {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private Cmds() {
    }

    /** {@code POST /cmds?device_id=...&query} with a raw body. */
    static Reply post(TestPlatform platform, String key, String query, byte[] body) {
        return platform.withKey(key, "POST", "/cmds?" + query, body);
    }

    /** Sends a command that must be accepted; returns its uuid. */
    static String send(TestPlatform platform, String key, TestDevice device, String params, byte[] body) {
        Reply r = post(platform, key, "device_id=" + device.id() + (params.isEmpty() ? "" : "&" + params), body);
        assertThat(r.errno()).as("POST /cmds: %s", r.body()).isZero();
        String uuid = r.data().path("cmd_uuid").asText();
        assertThat(uuid).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        return uuid;
    }

    static String send(TestPlatform platform, String key, TestDevice device, String params, String body) {
        return send(platform, key, device, params, body.getBytes(UTF_8));
    }

    /** {@code GET /cmds/{uuid}}'s status code, checking that its desc goes with it. */
    static int status(TestPlatform platform, String key, String uuid) {
        Reply r = platform.withKey(key, "GET", "/cmds/" + uuid, null);
        assertThat(r.errno()).as("GET /cmds/%s: %s", uuid, r.body()).isZero();
        int status = r.data().path("status").asInt();
        assertThat(r.data().path("desc").asText()).isEqualTo(DESCS[status]);
        return status;
    }

    static final String[] DESCS = {"Device Offline", "Command Created", "Command Sent", "Send Command Failed",
            "Command Response Received", "Command Response Timeout", "Command Response Too Large"};

    /** A raw HTTP reply. */
    record Raw(int status, String contentType, byte[] body) {
        String text() {
            return new String(body, UTF_8);
        }
    }

    /** {@code GET /cmds/{uuid}/resp}: raw bytes, or the errno envelope. */
    static Raw response(TestPlatform platform, String key, String uuid) {
        try {
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.platform().httpPort()
                    + "/cmds/" + uuid + "/resp")).header("api-key", key).GET().build();
            HttpResponse<byte[]> r = HTTP.send(req, HttpResponse.BodyHandlers.ofByteArray());
            return new Raw(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A device logged in with the HiveMQ client, subscribed to nothing, collecting whatever it is sent. */
    static final class Device implements AutoCloseable {
        final Mqtt3BlockingClient client;
        final Mqtt3Publishes received;

        private Device(Mqtt3BlockingClient client, Mqtt3Publishes received) {
            this.client = client;
            this.received = received;
        }

        static Device connect(TestPlatform platform, TestDevice device) {
            Mqtt3BlockingClient client = Clients.hivemq(platform, device);
            Mqtt3Publishes received = client.publishes(MqttGlobalPublishFilter.ALL);
            Clients.connect(client, true);
            return new Device(client, received);
        }

        /** The next message; fails when none arrives within 5 s. */
        Mqtt3Publish next() throws InterruptedException {
            return received.receive(5, SECONDS).orElseThrow(() -> new AssertionError("no message within 5 s"));
        }

        /** The next command: a {@code $creq/{uuid}} PUBLISH at QoS 0; returns it. */
        Mqtt3Publish nextCommand(String expectedUuid) throws InterruptedException {
            Mqtt3Publish p = next();
            assertThat(p.getTopic().toString()).isEqualTo("$creq/" + expectedUuid);
            assertThat(p.getQos()).isEqualTo(MqttQos.AT_MOST_ONCE);
            return p;
        }

        /** Publishes {@code $crsp/{uuid}}; at QoS 1 or 2 this returns once the server acknowledged it. */
        void answer(String uuid, byte[] response, MqttQos qos) {
            client.publishWith().topic("$crsp/" + uuid).qos(qos).payload(response).send();
        }

        void answer(String uuid, String response) {
            answer(uuid, response.getBytes(UTF_8), MqttQos.AT_LEAST_ONCE);
        }

        @Override
        public void close() {
            received.close();
            if (client.getState().isConnected()) {
                client.disconnect();
            }
        }
    }
}
