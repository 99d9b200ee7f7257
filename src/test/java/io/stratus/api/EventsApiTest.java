package io.stratus.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import io.stratus.telemetry.Datapoint;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code GET /events} (API "Live events", docs/decisions.md): presence and data point events as Server-Sent Events. */
class EventsApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct product;
    static TestProduct otherProduct;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void start() {
        product = platform.createProduct("events");
        otherProduct = platform.createProduct("other events");
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    @Test
    void online_datapoint_and_offline_events_arrive_with_a_query_token() throws Exception {
        TestDevice device = platform.createDevice(product, "sensor", "SN-EV-1");
        EventReader events = open("/events?product_id=" + product.id() + "&token=" + platform.adminToken(), Map.of());
        Mqtt3BlockingClient client = device(device);

        client.connect();
        JsonNode online = events.await("device.online", device.id());
        client.publish(Mqtt3Publish.builder().topic("$dp")
                .payload(dp3("{\"temperature\":21.5}")).qos(MqttQos.AT_LEAST_ONCE).build());
        JsonNode point = events.await("datapoint", device.id());
        client.disconnect();
        JsonNode offline = events.await("device.offline", device.id());

        assertThat(online.path("product").asText()).isEqualTo(product.id());
        assertThat(online.path("title").asText()).isEqualTo("sensor");
        assertThat(online.path("at").asText()).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d");
        assertThat(point.path("stream").asText()).isEqualTo("temperature");
        assertThat(point.path("value").asDouble()).isEqualTo(21.5);
        assertThat(point.path("at").asText()).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}");
        assertThat(offline.path("at").asText()).isNotEmpty();
    }

    @Test
    void a_master_key_stream_sees_only_its_own_product() throws Exception {
        TestDevice mine = platform.createDevice(product, "mine", "SN-EV-2");
        TestDevice theirs = platform.createDevice(otherProduct, "theirs", "SN-EV-3");
        EventReader everything = open("/events", Map.of("Authorization", "Bearer " + platform.adminToken()));
        EventReader scoped = open("/events", Map.of("api-key", product.masterKey()));

        device(theirs).connect();
        everything.await("device.online", theirs.id());
        device(mine).connect();
        scoped.await("device.online", mine.id());

        // Events are handed to every stream in the same call, so the other product's came first or not at all.
        assertThat(scoped.events).extracting(e -> e.data.path("device").asText()).doesNotContain(theirs.id());
        assertThat(everything.events).extracting(e -> e.data.path("device").asText()).contains(theirs.id());
    }

    @Test
    void a_master_key_may_also_come_as_the_token_parameter() throws Exception {
        TestDevice device = platform.createDevice(product, "keyed", "SN-EV-4");
        EventReader events = open("/events?token=" + product.masterKey(), Map.of());

        device(device).connect();

        assertThat(events.await("device.online", device.id()).path("device").asText()).isEqualTo(device.id());
    }

    @Test
    void no_credential_is_errno_2_and_a_wrong_one_errno_3() throws Exception {
        HttpResponse<String> none = get("/events", Map.of());
        HttpResponse<String> wrong = get("/events?token=not-a-token", Map.of());
        HttpResponse<String> otherProductsId = get("/events?product_id=" + otherProduct.id(), Map.of("api-key", product.masterKey()));

        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(JSON.readTree(none.body()).path("errno").asInt()).isEqualTo(2);
        assertThat(wrong.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(wrong.body()).path("errno").asInt()).isEqualTo(3);
        assertThat(JSON.readTree(otherProductsId.body()).path("errno").asInt()).isEqualTo(3);
    }

    @Test
    void a_device_level_key_may_not_watch_its_product() throws Exception {
        TestDevice device = platform.createDevice(product, "keyed-device", "SN-EV-6");
        String key = platform.withKey(product.masterKey(), "POST", "/keys", Map.of("title", "one device", "permissions",
                List.of(Map.of("access_methods", List.of("get"), "resources", List.of(Map.of("dev_id", device.id()))))))
                .data().path("key").asText();

        HttpResponse<String> reply = get("/events", Map.of("api-key", key));
        HttpResponse<String> asToken = get("/events?token=" + key, Map.of());

        assertThat(key).isNotEmpty();
        assertThat(reply.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(reply.body()).path("errno").asInt()).isEqualTo(3);
        assertThat(JSON.readTree(asToken.body()).path("errno").asInt()).isEqualTo(3);
    }

    @Test
    void a_client_that_does_not_read_loses_events_but_never_holds_up_storage() throws Exception {
        TestDevice device = platform.createDevice(product, "firehose", "SN-EV-5");
        long deviceId = Long.parseLong(device.id());
        try (Socket stalled = new Socket()) {
            stalled.setReceiveBufferSize(4096);
            stalled.connect(new InetSocketAddress("127.0.0.1", platform.platform().httpPort()));
            OutputStream out = stalled.getOutputStream();
            out.write(("GET /events?token=" + product.masterKey() + " HTTP/1.1\r\nHost: localhost\r\n"
                    + "Accept: text/event-stream\r\n\r\n").getBytes(UTF_8));
            out.flush();
            InputStream in = stalled.getInputStream();
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, UTF_8));
            assertThat(reader.readLine()).contains("200");

            // 60,000 points, ~8 MB of events: far more than the socket buffers and the stream's queue hold.
            List<CompletableFuture<Void>> stored = new ArrayList<>();
            long base = System.currentTimeMillis() - 1_000_000;
            for (int batch = 0; batch < 60; batch++) {
                List<Datapoint> points = new ArrayList<>();
                for (int i = 0; i < 1000; i++) {
                    points.add(new Datapoint("flow", base + batch * 1000L + i, IntNode.valueOf(i), null, null));
                }
                stored.add(platform.platform().telemetry().upload(Long.parseLong(product.id()), deviceId, points));
            }
            CompletableFuture.allOf(stored.toArray(CompletableFuture[]::new)).get(30, SECONDS);

            stalled.setSoTimeout(20_000);
            String line;
            boolean toldOfDrops = false;
            while ((line = reader.readLine()) != null) {
                if (line.equals("event: dropped")) {
                    toldOfDrops = true;
                    assertThat(reader.readLine()).matches("data: \\{\"count\":\\d+}");
                    break;
                }
            }
            assertThat(toldOfDrops).isTrue();
            assertThat(get("/metrics", Map.of()).body()).containsPattern("(?m)^stratus_events_dropped_total [1-9]\\d*$");
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private Mqtt3BlockingClient device(TestDevice device) {
        Mqtt3BlockingClient client = Mqtt3Client.builder().identifier(device.id()).serverHost("127.0.0.1")
                .serverPort(platform.mqttPort()).simpleAuth().username(device.productId())
                .password(device.authInfo().getBytes(UTF_8)).applySimpleAuth().buildBlocking();
        open.add(() -> {
            if (client.getState().isConnected()) {
                client.disconnect();
            }
        });
        return client;
    }

    /** A `$dp` type-3 payload: the type byte, a u16 length, then the JSON. */
    private static byte[] dp3(String json) {
        byte[] body = json.getBytes(UTF_8);
        byte[] payload = new byte[body.length + 3];
        payload[0] = 3;
        payload[1] = (byte) (body.length >> 8);
        payload[2] = (byte) body.length;
        System.arraycopy(body, 0, payload, 3, body.length);
        return payload;
    }

    private static HttpResponse<String> get(String path, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.platform().httpPort() + path));
        headers.forEach(b::header);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private EventReader open(String path, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.platform().httpPort() + path))
                .header("Accept", "text/event-stream");
        headers.forEach(b::header);
        HttpResponse<InputStream> response = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        EventReader reader = new EventReader(response.body());
        open.add(reader);
        return reader;
    }

    record Event(String name, JsonNode data) {}

    /** Reads an SSE stream on its own thread into a list of events. */
    static final class EventReader implements AutoCloseable {
        final List<Event> events = new CopyOnWriteArrayList<>();
        private final InputStream body;
        /** The server ended the stream (end of the body), or the test closed it. */
        volatile boolean ended;

        EventReader(InputStream body) {
            this.body = body;
            Thread t = new Thread(this::read, "sse-reader");
            t.setDaemon(true);
            t.start();
        }

        private void read() {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(body, UTF_8))) {
                String name = "message";
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("event: ")) {
                        name = line.substring(7);
                    } else if (line.startsWith("data: ")) {
                        events.add(new Event(name, JSON.readTree(line.substring(6))));
                    } else if (line.isEmpty()) {
                        name = "message";
                    }
                }
            } catch (IOException e) {
                // closed by the test
            } finally {
                ended = true;
            }
        }

        /** The first event called {@code name}; fails when none arrives within 5 s. */
        JsonNode await(String name) {
            return Awaitility.await().atMost(5, SECONDS).until(() -> events.stream().filter(e -> e.name.equals(name))
                    .map(Event::data).findFirst().orElse(null), d -> d != null);
        }

        JsonNode await(String name, String deviceId) {
            return Awaitility.await().atMost(5, SECONDS).until(() -> events.stream()
                    .filter(e -> e.name.equals(name) && e.data.path("device").asText().equals(deviceId))
                    .map(Event::data).findFirst().orElse(null), d -> d != null);
        }

        @Override
        public void close() throws IOException {
            body.close();
        }
    }
}
