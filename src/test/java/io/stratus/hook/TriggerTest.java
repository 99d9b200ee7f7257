package io.stratus.hook;

import static io.stratus.hook.HookFixtures.createTrigger;
import static io.stratus.hook.HookFixtures.firedData;
import static io.stratus.hook.HookFixtures.firedValues;
import static io.stratus.hook.HookFixtures.firings;
import static io.stratus.hook.HookFixtures.upload;
import static io.stratus.hook.HookFixtures.uploadEach;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;

/**
 * Triggers end to end (API §6.4, docs/decisions.md): points go in over HTTP and MQTT {@code $dp}, and a real HTTP
 * receiver records what each trigger posts. Each test works in its own product, so triggers of one do not see another's
 * points.
 */
class TriggerTest extends HookReceiverTest {
    private static final String HOOK = "/hook";

    private static Map<String, Object> trigger(String ds, String type, Object threshold) {
        Map<String, Object> body = new HashMap<>(Map.of("title", type + " on " + ds, "ds_id", ds, "url", receiver.url(HOOK), "type", type));
        if (threshold != null) {
            body.put("threshold", threshold);
        }
        return body;
    }

    private static Map<String, Object> trigger(String ds, String type, Object threshold, TestDevice... devices) {
        Map<String, Object> body = trigger(ds, type, threshold);
        body.put("dev_ids", java.util.Arrays.stream(devices).map(TestDevice::id).toList());
        return body;
    }

    /** Waits until {@code actual} has {@code expected}'s size, then checks that nothing more arrives for a while. */
    private static <T> void awaitExactly(Supplier<List<T>> actual, int expected) {
        await().atMost(5, SECONDS).until(() -> actual.get().size() >= expected);
        await().during(300, MILLISECONDS).atMost(2, SECONDS).until(() -> actual.get().size() == expected);
    }

    @Test
    void comparisons_fire_on_every_numeric_point_meeting_the_condition() {
        TestProduct product = platform.createProduct("comparisons");
        TestDevice device = platform.createDevice(product, "d", "cmp-1");
        TestDevice other = platform.createDevice(product, "other", "cmp-2");
        long gt = createTrigger(platform, product, trigger("temp", ">", 10));
        long ge = createTrigger(platform, product, trigger("temp", ">=", 10));
        long lt = createTrigger(platform, product, trigger("temp", "<", 10));
        long le = createTrigger(platform, product, trigger("temp", "<=", 10.0));
        long otherStream = createTrigger(platform, product, trigger("humidity", ">", -1000));
        long otherDevice = createTrigger(platform, product, trigger("temp", ">", -1000, other));

        upload(platform, product, device, "temp", "5", "10", "15", "\"abc\"", "10.0", "20", "-3", "{\"x\":100}", "\"100\"");

        awaitExactly(() -> firedValues(receiver, HOOK, gt), 2);
        assertThat(firedValues(receiver, HOOK, gt)).containsExactly("15", "20");
        assertThat(firedValues(receiver, HOOK, ge)).containsExactly("10", "15", "10.0", "20");
        assertThat(firedValues(receiver, HOOK, lt)).containsExactly("5", "-3");
        assertThat(firedValues(receiver, HOOK, le)).containsExactly("5", "10", "10.0", "-3");
        assertThat(firings(receiver, HOOK, otherStream)).isEmpty();
        assertThat(firings(receiver, HOOK, otherDevice)).isEmpty();
        // One POST per trigger and stored batch.
        assertThat(firings(receiver, HOOK, ge)).hasSize(1);
    }

    @Test
    void the_post_names_the_trigger_and_the_point_as_onenet_does() {
        TestProduct product = platform.createProduct("post shape");
        TestDevice device = platform.createDevice(product, "d", "shape-1");
        long id = createTrigger(platform, product, trigger("gps", ">", 9.0));

        upload(platform, product, device, "gps", "100");

        await().atMost(5, SECONDS).until(() -> firings(receiver, HOOK, id).size() == 1);
        JsonNode body = firings(receiver, HOOK, id).get(0);
        assertThat(body.path("trigger").path("id").isIntegralNumber()).isTrue();
        assertThat(body.path("trigger").path("threshold").asDouble()).isEqualTo(9.0);
        assertThat(body.path("trigger").path("type").asText()).isEqualTo(">");
        JsonNode point = body.path("current_data").get(0);
        assertThat(point.path("dev_id").asText()).isEqualTo(device.id());
        assertThat(point.path("ds_id").asText()).isEqualTo("gps");
        String uuid = platform.withKey(product.masterKey(), "GET", "/devices/" + device.id() + "/datastreams/gps", null)
                .data().path("uuid").asText();
        assertThat(point.path("ds_uuid").asText()).isNotEmpty().isEqualTo(uuid);
        assertThat(point.path("at").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(point.path("value").asInt()).isEqualTo(100);
        assertThat(receiver.requests().stream().filter(r -> r.body().contains("\"id\":" + id + ",")).findFirst().orElseThrow().method())
                .isEqualTo("POST");
    }

    @Test
    void inout_fires_when_a_value_enters_or_leaves_the_range_and_the_first_point_only_sets_the_state() {
        TestProduct product = platform.createProduct("inout");
        TestDevice inside = platform.createDevice(product, "starts inside", "io-1");
        TestDevice outside = platform.createDevice(product, "starts outside", "io-2");
        long id = createTrigger(platform, product, trigger("level", "inout", Map.of("lolmt", 40, "uplmt", 52)));

        uploadEach(platform, product, inside, "level", "45", "50", "60", "70", "52", "\"text\"", "39", "30", "40");
        uploadEach(platform, product, outside, "level", "10", "45");

        awaitExactly(() -> firedData(receiver, HOOK, id), 5);
        List<String> insideFired = firedData(receiver, HOOK, id).stream()
                .filter(e -> e.path("dev_id").asText().equals(inside.id())).map(e -> e.path("value").toString()).toList();
        List<String> outsideFired = firedData(receiver, HOOK, id).stream()
                .filter(e -> e.path("dev_id").asText().equals(outside.id())).map(e -> e.path("value").toString()).toList();
        // 60 leaves, 52 enters (bounds are inside), 39 leaves, 40 enters; 45 enters for the device that started out.
        assertThat(insideFired).containsExactlyInAnyOrder("60", "52", "39", "40");
        assertThat(outsideFired).containsExactly("45");
        assertThat(firings(receiver, HOOK, id).get(0).path("trigger").path("threshold").toString())
                .isEqualTo("{\"lolmt\":40.0,\"uplmt\":52.0}");
    }

    @Test
    void change_fires_when_a_value_differs_from_the_previous_point_of_the_stream() {
        TestProduct product = platform.createProduct("change");
        TestDevice device = platform.createDevice(product, "d", "ch-1");
        long id = createTrigger(platform, product, trigger("state", "change", null));

        uploadEach(platform, product, device, "state", "1", "1", "1.0", "2", "\"2\"", "\"2\"", "{\"a\":1}", "{\"a\":1}");
        upload(platform, product, device, "state", "3", "3", "4"); // within one batch too

        awaitExactly(() -> firedValues(receiver, HOOK, id), 5);
        assertThat(firedValues(receiver, HOOK, id)).containsExactlyInAnyOrder("2", "\"2\"", "{\"a\":1}", "3", "4");
        assertThat(firings(receiver, HOOK, id).get(0).path("trigger").path("threshold").isNull()).isTrue();
    }

    @Test
    void frozen_fires_once_per_silence_and_live_fires_on_the_first_point_after_one() {
        TestProduct product = platform.createProduct("silence");
        TestDevice talker = platform.createDevice(product, "talker", "si-1");
        TestDevice silent = platform.createDevice(product, "never sends", "si-2");
        long frozen = createTrigger(platform, product, trigger("hb", "frozen", 1.5));
        long live = createTrigger(platform, product, trigger("hb", "live", 1.5, talker));

        upload(platform, product, talker, "hb", "1"); // within 1.5 s of the trigger's creation: live stays quiet

        // The device that never sent goes frozen 1.5 s after the trigger was made; the talker 1.5 s after its point.
        await().atMost(5, SECONDS).until(() -> firedData(receiver, HOOK, frozen).size() == 2);
        assertThat(firedData(receiver, HOOK, frozen)).extracting(e -> e.path("dev_id").asText())
                .containsExactlyInAnyOrder(talker.id(), silent.id());
        JsonNode silentEntry = firedData(receiver, HOOK, frozen).stream()
                .filter(e -> e.path("dev_id").asText().equals(silent.id())).findFirst().orElseThrow();
        assertThat(silentEntry.has("value")).isFalse();
        JsonNode talkerEntry = firedData(receiver, HOOK, frozen).stream()
                .filter(e -> e.path("dev_id").asText().equals(talker.id())).findFirst().orElseThrow();
        assertThat(talkerEntry.path("value").asInt()).isEqualTo(1);
        assertThat(firings(receiver, HOOK, live)).isEmpty();

        // The frozen post proves 1.5 s of silence: the next point is live, the one right after it is not.
        upload(platform, product, talker, "hb", "2");
        upload(platform, product, talker, "hb", "3");

        await().atMost(5, SECONDS).until(() -> firedValues(receiver, HOOK, live).size() == 1);
        assertThat(firedValues(receiver, HOOK, live)).containsExactly("2");
        // New points re-arm frozen for the talker only: one more post, with its last value.
        awaitExactly(() -> firedData(receiver, HOOK, frozen), 3);
        assertThat(firedData(receiver, HOOK, frozen).get(2).path("value").asInt()).isEqualTo(3);
        assertThat(firedValues(receiver, HOOK, live)).containsExactly("2");
    }

    @Test
    void a_dp_published_over_mqtt_fires_a_trigger() throws Exception {
        TestProduct product = platform.createProduct("mqtt");
        TestDevice device = platform.createDevice(product, "d", "mq-1");
        long id = createTrigger(platform, product, trigger("temperature", ">=", 30));
        MqttClient client = new MqttClient(platform.mqttUri(), device.id(), new MemoryPersistence());
        MqttConnectOptions options = new MqttConnectOptions();
        options.setUserName(product.id());
        options.setPassword(device.authInfo().toCharArray());
        client.connect(options);
        try {
            for (String json : List.of("{\"temperature\":25}", "{\"temperature\":31.5}", "{\"temperature\":30}")) {
                byte[] text = json.getBytes(UTF_8);
                byte[] dp = new byte[text.length + 3];
                dp[0] = 3; // $dp type 3: {"stream":value}
                dp[1] = (byte) (text.length >> 8);
                dp[2] = (byte) text.length;
                System.arraycopy(text, 0, dp, 3, text.length);
                client.publish("$dp", dp, 1, false);
            }
        } finally {
            client.disconnect();
            client.close();
        }

        awaitExactly(() -> firedValues(receiver, HOOK, id), 2);
        assertThat(firedValues(receiver, HOOK, id)).containsExactlyInAnyOrder("31.5", "30");
    }

    @Test
    void a_changed_trigger_applies_its_new_definition_and_a_deleted_one_stops() {
        TestProduct product = platform.createProduct("crud");
        TestDevice device = platform.createDevice(product, "d", "crud-1");
        long id = createTrigger(platform, product, trigger("t", ">", 10));

        Reply put = platform.withKey(product.masterKey(), "PUT", "/triggers/" + id, Map.of("threshold", 100, "title", "hot"));
        assertThat(put.errno()).as(put.body().toString()).isZero();
        JsonNode got = platform.withKey(product.masterKey(), "GET", "/triggers/" + id, null).data();
        assertThat(got.path("id").asLong()).isEqualTo(id);
        assertThat(got.path("title").asText()).isEqualTo("hot");
        assertThat(got.path("type").asText()).isEqualTo(">");
        assertThat(got.path("threshold").asDouble()).isEqualTo(100.0);
        assertThat(got.path("ds_id").asText()).isEqualTo("t");
        assertThat(got.path("url").asText()).isEqualTo(receiver.url(HOOK));
        assertThat(got.path("dev_ids")).isEmpty();
        assertThat(got.path("create_time").asText()).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d");

        upload(platform, product, device, "t", "50", "150");
        awaitExactly(() -> firedValues(receiver, HOOK, id), 1);
        assertThat(firedValues(receiver, HOOK, id)).containsExactly("150");

        assertThat(platform.withKey(product.masterKey(), "DELETE", "/triggers/" + id, null).errno()).isZero();
        assertThat(platform.withKey(product.masterKey(), "GET", "/triggers/" + id, null).errno()).isEqualTo(8);
        upload(platform, product, device, "t", "500");
        await().during(300, MILLISECONDS).atMost(2, SECONDS).until(() -> firedValues(receiver, HOOK, id).size() == 1);
    }

    @Test
    void triggers_are_stored_and_fire_after_a_restart() {
        TestProduct product = platform.createProduct("restart");
        TestDevice device = platform.createDevice(product, "d", "rs-1");
        long id = createTrigger(platform, product, trigger("t", ">", 0));

        platform.restart();

        assertThat(platform.withKey(product.masterKey(), "GET", "/triggers/" + id, null).data().path("type").asText()).isEqualTo(">");
        upload(platform, product, device, "t", "1");
        awaitExactly(() -> firedValues(receiver, HOOK, id), 1);
    }

    @Test
    void the_list_is_paged_and_scoped_to_the_product() {
        TestProduct product = platform.createProduct("list");
        TestProduct other = platform.createProduct("list other");
        long a = createTrigger(platform, product, trigger("a", ">", 1));
        long b = createTrigger(platform, product, trigger("b", "change", null));
        long c = createTrigger(platform, product, trigger("c", "frozen", 60));
        createTrigger(platform, other, trigger("x", ">", 1));

        JsonNode page2 = platform.withKey(product.masterKey(), "GET", "/triggers?page=2&per_page=2", null).data();
        JsonNode all = platform.withKey(product.masterKey(), "GET", "/triggers", null).data();
        JsonNode asAdmin = platform.asAdmin("GET", "/triggers?product_id=" + product.id(), null).data();

        assertThat(page2.path("total_count").asInt()).isEqualTo(3);
        assertThat(page2.path("page").asInt()).isEqualTo(2);
        assertThat(page2.path("per_page").asInt()).isEqualTo(2);
        assertThat(page2.path("triggers")).extracting(t -> t.path("id").asLong()).containsExactly(c);
        assertThat(all.path("triggers")).extracting(t -> t.path("id").asLong()).containsExactly(a, b, c);
        assertThat(asAdmin.path("triggers")).extracting(t -> t.path("id").asLong()).containsExactly(a, b, c);
    }
}
