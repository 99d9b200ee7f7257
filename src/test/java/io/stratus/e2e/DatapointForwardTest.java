package io.stratus.e2e;

import static io.stratus.e2e.Clients.next;
import static io.stratus.e2e.Clients.text;
import static io.stratus.e2e.Points.binary;
import static io.stratus.e2e.Points.dp;
import static io.stratus.e2e.Points.hex;
import static io.stratus.e2e.Points.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient.Mqtt3Publishes;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.Mqtt3Subscription;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.suback.Mqtt3SubAckReturnCode;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Datapoint subscription (protocol §5 and D4 in docs/decisions.md): a device of the same product subscribed to
 * {@code /{device_id}/{stream}} receives one PUBLISH per point uploaded by that device, over MQTT or HTTP, at
 * min(uploader QoS, granted QoS); devices of other products receive nothing.
 */
class DatapointForwardTest {
    @TempDir
    static Path dataDir;
    static TestPlatform platform;
    static TestProduct product;
    static TestProduct otherProduct;
    /** Shared by the QoS matrix: one uploader and one subscriber, a stream per combination. */
    static Mqtt3BlockingClient uploader;
    static TestDevice uploaderDevice;
    static Mqtt3BlockingClient subscriber;
    static Mqtt3Publishes received;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(dataDir);
        product = platform.createProduct("forward");
        otherProduct = platform.createProduct("elsewhere");
        uploaderDevice = Clients.device(platform, product, "uploader");
        uploader = Clients.hivemq(platform, uploaderDevice);
        Clients.connect(uploader, true);
        subscriber = Clients.hivemq(platform, Clients.device(platform, product, "subscriber"));
        received = subscriber.publishes(MqttGlobalPublishFilter.ALL);
        Clients.connect(subscriber, true);
    }

    @AfterAll
    static void stop() {
        received.close();
        subscriber.disconnect();
        uploader.disconnect();
        platform.close();
    }

    private static void upload(Mqtt3BlockingClient client, int qos, byte[] payload) {
        client.publishWith().topic("$dp").qos(MqttQos.fromCode(qos)).payload(payload).send();
    }

    private static void subscribe(Mqtt3BlockingClient client, int qos, String... filters) {
        List<Mqtt3Subscription> subscriptions = Arrays.stream(filters)
                .map(f -> Mqtt3Subscription.builder().topicFilter(f).qos(MqttQos.fromCode(qos)).build()).toList();
        assertThat(client.subscribeWith().addSubscriptions(subscriptions).send().getReturnCodes())
                .doesNotContain(Mqtt3SubAckReturnCode.FAILURE);
    }

    /** The next {@code n} messages as (topic, payload text). */
    private static List<List<String>> nextMessages(Mqtt3Publishes publishes, int n) throws InterruptedException {
        List<List<String>> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Mqtt3Publish p = next(publishes);
            out.add(List.of(p.getTopic().toString(), text(p)));
        }
        return out;
    }

    @ParameterizedTest(name = "uploaded at QoS {0}, subscribed at QoS {1} -> delivered at QoS {2}")
    @CsvSource({"0,0,0", "0,1,0", "0,2,0", "1,0,0", "1,1,1", "1,2,1", "2,0,0", "2,1,1", "2,2,2"})
    void subscriber_receives_each_point_at_min_of_upload_and_granted_qos_D4(int uploadQos, int grantedQos, int expected)
            throws Exception {
        String stream = "q" + uploadQos + grantedQos;
        String topic = "/" + uploaderDevice.id() + "/" + stream;
        subscribe(subscriber, grantedQos, topic);

        upload(uploader, uploadQos, dp(3, "{\"" + stream + "\":" + (uploadQos * 10 + grantedQos) + "}"));

        Mqtt3Publish p = next(received);
        assertThat(p.getTopic().toString()).isEqualTo(topic);
        assertThat(p.getQos().getCode()).isEqualTo(expected);
        assertThat(text(p)).isEqualTo(String.valueOf(uploadQos * 10 + grantedQos));
        assertThat(p.isRetain()).isFalse();
        subscriber.unsubscribeWith().topicFilter(topic).send();
    }

    @Test
    void each_point_is_one_publish_with_its_value_as_text_D4() throws Exception {
        TestDevice device = Clients.device(platform, product, "values");
        Mqtt3BlockingClient source = Clients.hivemq(platform, device);
        Mqtt3BlockingClient watcher = Clients.hivemq(platform, Clients.device(platform, product, "watcher"));
        try (Mqtt3Publishes messages = watcher.publishes(MqttGlobalPublishFilter.ALL)) {
            Clients.connect(source, true);
            Clients.connect(watcher, true);
            String prefix = "/" + device.id() + "/";
            subscribe(watcher, 1, prefix + "temperature", prefix + "humidity", prefix + "loc", prefix + "count",
                    prefix + "quote", prefix + "1", prefix + "2", prefix + "9271", prefix + "image", "end");

            upload(source, 1, dp(1, "{\"datastreams\":[{\"id\":\"temperature\",\"datapoints\":[{\"value\":22.5},{\"value\":23.5}]},"
                    + "{\"id\":\"humidity\",\"datapoints\":[{\"value\":\"95.2%\"}]},"
                    + "{\"id\":\"loc\",\"datapoints\":[{\"value\":{\"lon\":117.48, \"lat\":39.96}}]},"
                    + "{\"id\":\"count\",\"datapoints\":[{\"value\":102}]},"
                    + "{\"id\":\"quote\",\"datapoints\":[{\"value\":\"say \\\"hi\\\"\"}]}]}"));
            upload(source, 1, hex("07 00 01 00 02 00 00 08 42 66 66 A2 C1 24 37 00 01 00 00 C0 3F")); // §3.3 t7 without time
            upload(source, 1, binary("{\"ds_id\":\"image\"}", hex("DE AD BE EF")));
            source.publishWith().topic("end").qos(MqttQos.AT_LEAST_ONCE).payload("end".getBytes(StandardCharsets.UTF_8)).send();

            List<List<String>> got = nextMessages(messages, 11);
            String index = Points.streams(platform, product.masterKey(), device.id()).get("image")
                    .path("current_value").path("index").asText();
            assertThat(got).containsExactly(
                    List.of(prefix + "temperature", "22.5"),
                    List.of(prefix + "temperature", "23.5"),
                    List.of(prefix + "humidity", "95.2%"),
                    List.of(prefix + "loc", "{\"lon\":117.48,\"lat\":39.96}"),
                    List.of(prefix + "count", "102"),
                    List.of(prefix + "quote", "say \"hi\""),
                    List.of(prefix + "1", "34.0"),
                    List.of(prefix + "2", "-20.3"),
                    List.of(prefix + "9271", "1.5"),
                    List.of(prefix + "image", "{\"index\":\"" + index + "\"}"),
                    List.of("end", "end"));
        } finally {
            watcher.disconnect();
            source.disconnect();
        }
    }

    @Test
    void devices_of_another_product_receive_nothing_D10() throws Exception {
        TestDevice device = Clients.device(platform, product, "private");
        Mqtt3BlockingClient source = Clients.hivemq(platform, device);
        Mqtt3BlockingClient sameProduct = Clients.hivemq(platform, Clients.device(platform, product, "neighbour"));
        Mqtt3BlockingClient stranger = Clients.hivemq(platform, Clients.device(platform, otherProduct, "stranger"));
        Mqtt3BlockingClient strangerFriend = Clients.hivemq(platform, Clients.device(platform, otherProduct, "friend"));
        try (Mqtt3Publishes neighbourMessages = sameProduct.publishes(MqttGlobalPublishFilter.ALL);
             Mqtt3Publishes strangerMessages = stranger.publishes(MqttGlobalPublishFilter.ALL)) {
            Clients.connect(source, true);
            Clients.connect(sameProduct, true);
            Clients.connect(stranger, true);
            Clients.connect(strangerFriend, true);
            String topic = "/" + device.id() + "/temperature";
            subscribe(sameProduct, 2, topic);
            subscribe(stranger, 2, topic, "#", "/+/+");

            upload(source, 1, dp(3, "{\"temperature\":22.5}"));
            assertThat(text(next(neighbourMessages))).isEqualTo("22.5");
            // Routing to every subscriber happened before the neighbour got its copy; a message of the stranger's own
            // product sent now must therefore be the first thing the stranger receives.
            strangerFriend.publishWith().topic("sentinel").qos(MqttQos.AT_LEAST_ONCE).payload(new byte[] {1}).send();

            Mqtt3Publish first = next(strangerMessages);
            assertThat(first.getTopic().toString()).isEqualTo("sentinel");
        } finally {
            source.disconnect();
            sameProduct.disconnect();
            stranger.disconnect();
            strangerFriend.disconnect();
        }
    }

    @Test
    void points_uploaded_over_http_are_forwarded_too() throws Exception {
        TestDevice device = Clients.device(platform, product, "http-source");
        Mqtt3BlockingClient watcher = Clients.hivemq(platform, Clients.device(platform, product, "http-watcher"));
        try (Mqtt3Publishes messages = watcher.publishes(MqttGlobalPublishFilter.ALL)) {
            Clients.connect(watcher, true);
            String prefix = "/" + device.id() + "/";
            subscribe(watcher, 2, prefix + "+");

            Points.upload(platform, product.masterKey(), device.id(),
                    "{\"datastreams\":[{\"id\":\"http\",\"datapoints\":[{\"at\":\"2024-01-01T00:00:00\",\"value\":1},{\"value\":\"two\"}]}]}");
            Reply simple = platform.withKey(product.masterKey(), "POST", "/devices/" + device.id() + "/datapoints?type=3",
                    "{\"simple\":{\"x\":1}}");
            assertThat(simple.errno()).isZero();

            List<Mqtt3Publish> got = List.of(next(messages), next(messages), next(messages));
            assertThat(got).extracting(p -> p.getTopic().toString(), Clients::text, p -> p.getQos().getCode())
                    .as("HTTP uploads count as QoS 1")
                    .containsExactly(tuple(prefix + "http", "1", 1), tuple(prefix + "http", "two", 1),
                            tuple(prefix + "simple", "{\"x\":1}", 1));
        } finally {
            watcher.disconnect();
        }
    }

    @Test
    void with_forward_json_the_payload_is_id_at_and_value_D4(@TempDir Path dir) throws Exception {
        try (TestPlatform jsonPlatform = TestPlatform.start(dir, Map.of("dp.forward", "json"))) {
            TestProduct p = jsonPlatform.createProduct("json-forward");
            TestDevice device = Clients.device(jsonPlatform, p, "source");
            Mqtt3BlockingClient source = Clients.hivemq(jsonPlatform, device);
            Mqtt3BlockingClient watcher = Clients.hivemq(jsonPlatform, Clients.device(jsonPlatform, p, "watcher"));
            try (Mqtt3Publishes messages = watcher.publishes(MqttGlobalPublishFilter.ALL)) {
                Clients.connect(source, true);
                Clients.connect(watcher, true);
                subscribe(watcher, 1, "/" + device.id() + "/temperature", "/" + device.id() + "/status");

                long before = System.currentTimeMillis();
                upload(source, 1, dp(4, "{\"temperature\":{\"2015-03-22 22:31:12\":22.5}}"));
                upload(source, 1, dp(3, "{\"status\":{\"on\":true}}"));
                long after = System.currentTimeMillis();

                Mqtt3Publish first = next(messages);
                assertThat(first.getTopic().toString()).isEqualTo("/" + device.id() + "/temperature");
                assertThat(Points.parse(first.getPayloadAsBytes()))
                        .isEqualTo(json("{\"id\":\"temperature\",\"at\":\"2015-03-22 22:31:12.000\",\"value\":22.5}"));
                JsonNode second = Points.parse(next(messages).getPayloadAsBytes());
                assertThat(second.path("id").asText()).isEqualTo("status");
                assertThat(second.path("value")).isEqualTo(json("{\"on\":true}"));
                assertThat(Points.millis(second.path("at").asText())).isBetween(before, after);
            } finally {
                watcher.disconnect();
                source.disconnect();
            }
        }
    }
}
