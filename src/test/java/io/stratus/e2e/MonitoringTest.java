package io.stratus.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /healthz} (liveness, readiness) and {@code /metrics} (Prometheus text) on the HTTP port, without credentials. */
class MonitoringTest {
    @TempDir
    Path dataDir;

    @Test
    void healthz_is_ready_when_the_store_takes_writes_and_mqtt_listens() {
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            Reply ready = platform.call("GET", "/healthz", null, Map.of());
            assertThat(ready.status()).isEqualTo(200);
            assertThat(ready.body().path("status").asText()).isEqualTo("ok");
            assertThat(ready.body().path("live").asBoolean()).isTrue();
            assertThat(ready.body().path("checks").path("store").asText()).isEqualTo("ok");
            assertThat(ready.body().path("checks").path("mqtt").asText()).isEqualTo("ok");
            assertThat(platform.call("GET", "/healthz/live", null, Map.of()).status()).isEqualTo(200);
            assertThat(platform.call("GET", "/healthz/ready", null, Map.of()).status()).isEqualTo(200);
        }
    }

    @Test
    void metrics_count_connections_messages_datapoints_and_queues() {
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            TestProduct product = platform.createProduct("p");
            TestDevice device = platform.createDevice(product, "d", "sn");
            Mqtt3BlockingClient client = Clients.hivemq(platform, device);
            Clients.connect(client, true);
            client.publishWith().topic("a/b").qos(MqttQos.AT_LEAST_ONCE).payload("x".getBytes(UTF_8)).send();
            client.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE).payload(Points.dp(3, "{\"t\":1,\"u\":2}")).send();

            String text = metricsText(platform);

            assertThat(text).contains("# TYPE stratus_mqtt_connections gauge\nstratus_mqtt_connections 1\n");
            assertThat(text).contains("# TYPE stratus_mqtt_messages_received_total counter\nstratus_mqtt_messages_received_total 2\n");
            assertThat(text).contains("stratus_datapoints_stored_total 2\n");
            assertThat(text).contains("stratus_mqtt_messages_sent_total 0\n", "stratus_mqtt_messages_dropped_total 0\n",
                    "stratus_datapoint_writer_queue_depth ", "stratus_state_writer_queue_depth ", "stratus_auth_failures_total 0\n",
                    "stratus_mqtt_slow_consumers_disconnected_total 0\n", "process_open_fds ", "jvm_heap_used_bytes ");
            client.disconnect();
        }
    }

    /** One value of {@code GET /metrics}; fails the test when the metric is absent. */
    static long metric(TestPlatform platform, String name) {
        for (String line : metricsText(platform).split("\n")) {
            if (line.startsWith(name + " ")) {
                return (long) Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        throw new AssertionError("no metric " + name);
    }

    /** The body of {@code GET /metrics}, checking its content type. */
    static String metricsText(TestPlatform platform) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + platform.platform().httpPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
            return r.body();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
