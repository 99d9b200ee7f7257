package io.stratus.e2e;

import static io.stratus.e2e.Clients.next;
import static io.stratus.e2e.Clients.text;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient.Mqtt3Publishes;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.broker.Broker;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code POST /mqtt} and the topic API (protocol §5 and D26 in docs/decisions.md), with real MQTT clients. */
class MqttHttpApiTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct a;
    static TestProduct b;

    @BeforeAll
    static void start() {
        a = platform.createProduct("mqtt-a");
        b = platform.createProduct("mqtt-b");
    }

    private static Reply master(TestProduct p, String method, String path, Object body) {
        return platform.withKey(p.masterKey(), method, path, body);
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static Mqtt3BlockingClient connected(TestDevice d, boolean clean) {
        Mqtt3BlockingClient c = Clients.hivemq(platform, d);
        Clients.connect(c, clean);
        return c;
    }

    // ---- POST /mqtt ---------------------------------------------------------------------------------------------

    @Test
    void publish_over_http_reaches_online_subscribers_of_the_product_only() throws InterruptedException {
        TestDevice inA = Clients.device(platform, a, "sub-a");
        TestDevice inB = Clients.device(platform, b, "sub-b");
        Mqtt3BlockingClient subA = connected(inA, true);
        Mqtt3BlockingClient subB = connected(inB, true);
        try (Mqtt3Publishes receivedA = subA.publishes(MqttGlobalPublishFilter.ALL);
             Mqtt3Publishes receivedB = subB.publishes(MqttGlobalPublishFilter.ALL)) {
            subA.subscribeWith().topicFilter("lamps/+/set").qos(MqttQos.AT_LEAST_ONCE).send();
            subB.subscribeWith().topicFilter("lamps/+/set").qos(MqttQos.AT_LEAST_ONCE).send();

            Reply r = master(a, "POST", "/mqtt?topic=lamps/7/set", "{\"on\":true}".getBytes(UTF_8));
            assertThat(r.errno()).as(r.toString()).isZero();

            Mqtt3Publish got = next(receivedA);
            assertThat(got.getTopic().toString()).isEqualTo("lamps/7/set");
            assertThat(text(got)).isEqualTo("{\"on\":true}");
            assertThat(got.getQos()).isEqualTo(MqttQos.AT_MOST_ONCE);
            assertThat(got.isRetain()).isFalse();

            // B's subscriber got nothing: the first message it sees is one published in B afterwards.
            assertThat(master(b, "POST", "/mqtt?topic=lamps/8/set", "marker").errno()).isZero();
            assertThat(text(next(receivedB))).isEqualTo("marker");
        } finally {
            subA.disconnect();
            subB.disconnect();
        }
    }

    @Test
    void publish_over_http_is_not_queued_for_offline_persistent_sessions() throws InterruptedException {
        TestDevice d = Clients.device(platform, a, "offline");
        Mqtt3BlockingClient c = connected(d, false);
        c.subscribeWith().topicFilter("offline/t").qos(MqttQos.AT_LEAST_ONCE).send();
        c.disconnect();

        assertThat(master(a, "POST", "/mqtt?topic=offline/t", "missed").errno()).isZero();

        Mqtt3BlockingClient again = Clients.hivemq(platform, d);
        try (Mqtt3Publishes received = again.publishes(MqttGlobalPublishFilter.ALL)) {
            assertThat(Clients.connect(again, false).isSessionPresent()).isTrue();
            assertThat(master(a, "POST", "/mqtt?topic=offline/t", "live").errno()).isZero();
            assertThat(text(next(received))).isEqualTo("live");
        } finally {
            again.disconnect();
        }
    }

    @Test
    void admin_publishes_with_product_id() throws InterruptedException {
        TestDevice d = Clients.device(platform, a, "admin-sub");
        Mqtt3BlockingClient c = connected(d, true);
        try (Mqtt3Publishes received = c.publishes(MqttGlobalPublishFilter.ALL)) {
            c.subscribeWith().topicFilter("admin/news").send();
            assertThat(platform.asAdmin("POST", "/mqtt?topic=admin/news", "hello").errno()).isEqualTo(7);
            assertThat(platform.asAdmin("POST", "/mqtt?topic=admin/news&product_id=" + a.id(), "hello").errno()).isZero();
            assertThat(text(next(received))).isEqualTo("hello");
        } finally {
            c.disconnect();
        }
    }

    @ParameterizedTest(name = "topic={0} -> errno {1}")
    @CsvSource({
        "'',           7",
        "$dp,          6",
        "$crsp/1,      6",
        "$SYS/x,       6",
        "a/+/b,        6",
        "a/#,          6",
    })
    void publish_refuses_missing_system_and_wildcard_topics(String topic, int errno) {
        String query = topic.isEmpty() ? "" : "?topic=" + java.net.URLEncoder.encode(topic, UTF_8);
        Reply r = master(a, "POST", "/mqtt" + query, "x");
        assertThat(r.errno()).as(r.toString()).isEqualTo(errno);
        assertThat(r.status()).isEqualTo(200);
    }

    @Test
    void publish_refuses_bodies_over_64_kib_and_long_topics() {
        assertThat(master(a, "POST", "/mqtt?topic=big", new byte[64 * 1024]).errno()).isZero();
        assertThat(master(a, "POST", "/mqtt?topic=big", new byte[64 * 1024 + 1]).errno()).isEqualTo(5);
        assertThat(master(a, "POST", "/mqtt?topic=" + "t".repeat(1025), "x").errno()).isEqualTo(6);
    }

    // ---- topics -------------------------------------------------------------------------------------------------

    @Test
    void topics_are_created_listed_and_deleted() {
        assertThat(master(a, "POST", "/mqtt/topic", Map.of("name", "crud/one")).errno()).isZero();
        assertThat(master(a, "POST", "/mqtt/topic", Map.of("name", "crud/two")).errno()).isZero();
        Reply again = master(a, "POST", "/mqtt/topic", Map.of("name", "crud/one"));
        assertThat(again.errno()).isEqualTo(12);

        JsonNode list = master(a, "GET", "/mqtt/topic", null).data();
        assertThat(list.isArray()).isTrue();
        assertThat(strings(list)).contains("crud/one", "crud/two").isSorted();
        assertThat(strings(master(b, "GET", "/mqtt/topic", null).data())).doesNotContain("crud/one");

        assertThat(master(a, "DELETE", "/mqtt/topic?name=crud/one", null).errno()).isZero();
        assertThat(strings(master(a, "GET", "/mqtt/topic", null).data())).doesNotContain("crud/one").contains("crud/two");
        assertThat(master(a, "DELETE", "/mqtt/topic?name=crud/one", null).errno()).isEqualTo(8);
        assertThat(master(a, "DELETE", "/mqtt/topic", null).errno()).isEqualTo(7);
        assertThat(master(b, "DELETE", "/mqtt/topic?name=crud/two", null).errno()).isEqualTo(8);
    }

    @ParameterizedTest(name = "{0} -> errno {1}")
    @CsvSource(delimiter = '|', value = {
        "{}                     | 7",
        "{\"name\":\"\"}        | 7",
        "{\"name\":5}           | 6",
        "{\"name\":\"$dp\"}     | 6",
        "{\"name\":\"a/+\"}     | 6",
        "{\"name\":\"a/#\"}     | 6",
        "{\"name\":\"a\\u0000b\"} | 6",
        "[\"x\"]                | 6",
        "{\"name\":             | 4",
    })
    void bad_topic_names_get_the_right_errno(String body, int errno) {
        Reply r = master(a, "POST", "/mqtt/topic", body);
        assertThat(r.errno()).as(r.toString()).isEqualTo(errno);
    }

    @Test
    void a_topic_name_may_have_1024_bytes_but_not_more() {
        assertThat(master(a, "POST", "/mqtt/topic", Map.of("name", "n".repeat(1024))).errno()).isZero();
        assertThat(master(a, "POST", "/mqtt/topic", Map.of("name", "n".repeat(1023) + "é")).errno()).isEqualTo(6);
    }

    @Test
    void an_exact_subscription_records_its_topic_and_a_wildcard_does_not_D26() throws IOException {
        TestDevice d = Clients.device(platform, a, "recorder");
        try (RawMqtt raw = Clients.raw(platform, d, true, 30)) {
            assertThat(Clients.subscribe(raw, 1, "rec/exact", 1)).isEqualTo(1);
            assertThat(Clients.subscribe(raw, 2, "rec/+", 1)).isEqualTo(1);
            assertThat(Clients.subscribe(raw, 3, "rec/#", 0)).isZero();
        }
        List<String> topics = strings(master(a, "GET", "/mqtt/topic", null).data());
        assertThat(topics).contains("rec/exact").doesNotContain("rec/+", "rec/#");
        assertThat(strings(master(b, "GET", "/mqtt/topic", null).data())).doesNotContain("rec/exact");
        // Recorded means it exists for the API too.
        assertThat(master(a, "POST", "/mqtt/topic", Map.of("name", "rec/exact")).errno()).isEqualTo(12);
    }

    @Test
    void device_topic_lists_the_filters_of_the_devices_session_even_offline() throws IOException {
        TestDevice d = Clients.device(platform, a, "topics-of");
        try (RawMqtt raw = Clients.raw(platform, d, false, 30)) {
            Clients.subscribe(raw, 1, "dt/b", 0);
            Clients.subscribe(raw, 2, "dt/a", 1);
            Clients.subscribe(raw, 3, "dt/+", 1);
            assertThat(strings(master(a, "GET", "/mqtt/device_topic/" + d.id(), null).data())).containsExactly("dt/+", "dt/a", "dt/b");
        }
        // A persistent session keeps its subscriptions while the device is away.
        assertThat(strings(master(a, "GET", "/mqtt/device_topic/" + d.id(), null).data())).containsExactly("dt/+", "dt/a", "dt/b");

        TestDevice never = Clients.device(platform, a, "never-connected");
        assertThat(master(a, "GET", "/mqtt/device_topic/" + never.id(), null).data().size()).isZero();
        assertThat(master(b, "GET", "/mqtt/device_topic/" + d.id(), null).errno()).isEqualTo(3);
        assertThat(master(a, "GET", "/mqtt/device_topic/999999999", null).errno()).isEqualTo(8);
        assertThat(master(a, "GET", "/mqtt/device_topic/abc", null).errno()).isEqualTo(8);
    }

    @Test
    void topic_device_lists_the_devices_subscribed_to_exactly_that_topic_as_integers() throws IOException {
        TestDevice d1 = Clients.device(platform, a, "td-1");
        TestDevice d2 = Clients.device(platform, a, "td-2");
        TestDevice d3 = Clients.device(platform, a, "td-3");
        TestDevice elsewhere = Clients.device(platform, b, "td-b");
        try (RawMqtt r1 = Clients.raw(platform, d1, true, 30);
             RawMqtt r2 = Clients.raw(platform, d2, true, 30);
             RawMqtt r3 = Clients.raw(platform, d3, true, 30);
             RawMqtt rb = Clients.raw(platform, elsewhere, true, 30)) {
            Clients.subscribe(r1, 1, "td/x", 0);
            Clients.subscribe(r2, 1, "td/x", 0);
            Clients.subscribe(r3, 1, "td/+", 0);
            Clients.subscribe(rb, 1, "td/x", 0);

            JsonNode all = master(a, "GET", "/mqtt/topic_device?topic=td/x", null).data();
            assertThat(all.path("total_count").asInt()).isEqualTo(2);
            assertThat(all.path("page").asInt()).isEqualTo(1);
            assertThat(all.path("per_page").asInt()).isEqualTo(10);
            assertThat(all.path("devices").get(0).isIntegralNumber()).isTrue();
            assertThat(strings(all.path("devices"))).containsExactly(d1.id(), d2.id());

            JsonNode second = master(a, "GET", "/mqtt/topic_device?topic=td/x&page=2&per_page=1", null).data();
            assertThat(strings(second.path("devices"))).containsExactly(d2.id());
            assertThat(strings(master(a, "GET", "/mqtt/topic_device?topic=td/%2B", null).data().path("devices")))
                    .containsExactly(d3.id());
            assertThat(master(a, "GET", "/mqtt/topic_device?topic=td/none", null).data().path("total_count").asInt()).isZero();
        }
        assertThat(master(a, "GET", "/mqtt/topic_device", null).errno()).isEqualTo(7);
        assertThat(master(a, "GET", "/mqtt/topic_device?topic=td/x&per_page=1001", null).errno()).isEqualTo(6);
        assertThat(master(a, "GET", "/mqtt/topic_device?topic=td/x&per_page=1000", null).errno()).isZero();
        assertThat(master(a, "GET", "/mqtt/topic_device?topic=td/x&page=abc", null).errno()).isEqualTo(6);
        assertThat(master(a, "GET", "/mqtt/topic_device?topic=a/%23/b", null).errno()).isEqualTo(6);
    }

    @Test
    void the_topic_limit_refuses_new_topics_and_topics_survive_a_restart(@TempDir Path own) throws IOException {
        try (TestPlatform limited = TestPlatform.start(own, Map.of("topics.max-per-product", "2"))) {
            TestProduct p = limited.createProduct("limited");
            TestDevice d = Clients.device(limited, p, "limited-dev");
            assertThat(limited.withKey(p.masterKey(), "POST", "/mqtt/topic", Map.of("name", "one")).errno()).isZero();
            try (RawMqtt raw = Clients.raw(limited, d, true, 30)) {
                assertThat(Clients.subscribe(raw, 1, "two", 1)).isEqualTo(1);
                assertThat(Clients.subscribe(raw, 2, "three", 1)).isEqualTo(Broker.SUBACK_FAILURE);
                assertThat(Clients.subscribe(raw, 3, "one", 1)).isEqualTo(1); // known topics stay subscribable
                assertThat(Clients.subscribe(raw, 4, "+", 1)).isEqualTo(1); // wildcards record nothing
            }
            Reply third = limited.withKey(p.masterKey(), "POST", "/mqtt/topic", Map.of("name", "three"));
            assertThat(third.errno()).isEqualTo(6);
            assertThat(third.body().path("error").asText()).contains("topics.max-per-product");

            limited.restart();

            assertThat(strings(limited.withKey(p.masterKey(), "GET", "/mqtt/topic", null).data())).containsExactly("one", "two");
            assertThat(limited.withKey(p.masterKey(), "DELETE", "/mqtt/topic?name=two", null).errno()).isZero();
            assertThat(limited.withKey(p.masterKey(), "POST", "/mqtt/topic", Map.of("name", "three")).errno()).isZero();
            limited.restart();
            assertThat(strings(limited.withKey(p.masterKey(), "GET", "/mqtt/topic", null).data())).containsExactly("one", "three");
        }
    }
}
