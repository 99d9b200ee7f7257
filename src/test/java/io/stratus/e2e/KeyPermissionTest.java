package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Device-level API keys (OneNET 6.4) enforced on every kind of endpoint: a key may use the HTTP methods it lists on
 * the devices and streams it lists, and nothing else (errno 3: HTTP 200 on OneNET's routes, 403 on Stratus's own
 * product and event routes); the master key and the admin are not limited. Also the MQTT side: a device-level key as
 * CONNECT password, and master key rotation.
 */
class KeyPermissionTest {
    /** Many refused logins are the point of these tests; the failed-login throttle must not get in the way. */
    static final Map<String, String> NO_THROTTLE = Map.of("auth.max-failures", "1000", "auth.max-failures-per-address", "1000");

    @TempDir
    static Path dataDir;
    static TestPlatform platform;
    static TestProduct a;
    static TestProduct b;
    static TestDevice a1;
    static TestDevice a2;
    static TestDevice b1;
    /** All methods on the whole of a1. */
    static String fullKey;
    /** Only GET, on the whole of a1. */
    static String readKey;
    /** All methods, but only on stream "temp" of a1. */
    static String tempKey;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(dataDir, NO_THROTTLE);
        a = platform.createProduct("keys-a");
        b = platform.createProduct("keys-b");
        a1 = platform.createDevice(a, "a1", "sn-a1");
        a2 = platform.createDevice(a, "a2", "sn-a2");
        b1 = platform.createDevice(b, "b1", "sn-b1");
        for (TestDevice d : List.of(a1, a2)) {
            assertThat(platform.withKey(a.masterKey(), "POST", "/devices/" + d.id() + "/datapoints",
                    points("temp", 21.5, "hum", 40)).errno()).isZero();
        }
        fullKey = createKey(a.masterKey(), "full", List.of("get", "put", "post", "delete"), Map.of("dev_id", a1.id()));
        readKey = createKey(a.masterKey(), "read", List.of("get"), Map.of("dev_id", a1.id()));
        tempKey = createKey(a.masterKey(), "temp", List.of("get", "put", "post", "delete"), Map.of("dev_id", a1.id(), "ds_id", "temp"));
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    static String createKey(String masterKey, String title, List<String> methods, Map<String, String> resource) {
        Reply r = platform.withKey(masterKey, "POST", "/keys", Map.of("title", title,
                "permissions", List.of(Map.of("access_methods", methods, "resources", List.of(resource)))));
        assertThat(r.errno()).as(r.toString()).isZero();
        return r.data().path("key").asText();
    }

    static Map<String, Object> points(String stream1, Object v1, String stream2, Object v2) {
        return Map.of("datastreams", List.of(
                Map.of("id", stream1, "datapoints", List.of(Map.of("value", v1))),
                Map.of("id", stream2, "datapoints", List.of(Map.of("value", v2)))));
    }

    static Map<String, Object> point(String stream, Object value) {
        return Map.of("datastreams", List.of(Map.of("id", stream, "datapoints", List.of(Map.of("value", value)))));
    }

    /** Errno 3 on one of OneNET's routes: HTTP 200 (api.status-codes=onenet). */
    static void assertRefused(Reply r) {
        assertThat(r.errno()).as(r.toString()).isEqualTo(3);
        assertThat(r.status()).isEqualTo(200);
    }

    /** Errno 3 on one of Stratus's own routes: HTTP 403. */
    static void assertForbidden(Reply r) {
        assertThat(r.errno()).as(r.toString()).isEqualTo(3);
        assertThat(r.status()).isEqualTo(403);
    }

    private static List<String> ids(JsonNode array, String field) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.path(field).asText()));
        return out;
    }

    // ---- devices ------------------------------------------------------------------------------------------------

    @Test
    void device_key_reads_and_writes_its_device() {
        assertThat(platform.withKey(fullKey, "GET", "/devices/" + a1.id(), null).data().path("title").asText()).isEqualTo("a1");
        assertThat(platform.withKey(fullKey, "PUT", "/devices/" + a1.id(), Map.of("desc", "changed by its key")).errno()).isZero();
        assertThat(platform.withKey(fullKey, "POST", "/devices/" + a1.id() + "/datapoints", point("temp", 22)).errno()).isZero();
        assertThat(platform.withKey(fullKey, "GET", "/devices/" + a1.id() + "/datapoints", null).errno()).isZero();
    }

    @Test
    void device_key_cannot_touch_another_device_of_its_product() {
        String other = "/devices/" + a2.id();
        assertRefused(platform.withKey(fullKey, "GET", other, null));
        assertRefused(platform.withKey(fullKey, "PUT", other, Map.of("desc", "x")));
        assertRefused(platform.withKey(fullKey, "DELETE", other, null));
        assertRefused(platform.withKey(fullKey, "GET", other + "/datastreams", null));
        assertRefused(platform.withKey(fullKey, "GET", other + "/datastreams/temp", null));
        assertRefused(platform.withKey(fullKey, "POST", other + "/datastreams", Map.of("id", "new")));
        assertRefused(platform.withKey(fullKey, "GET", other + "/datapoints", null));
        assertRefused(platform.withKey(fullKey, "POST", other + "/datapoints", point("temp", 1)));
        assertRefused(platform.withKey(fullKey, "POST", "/bindata?device_id=" + a2.id() + "&datastream_id=blob", new byte[] {1, 2}));
        // The device is still there, untouched.
        assertThat(platform.withKey(a.masterKey(), "GET", other, null).data().path("desc").asText()).isEmpty();
    }

    @Test
    void device_key_cannot_touch_another_product() {
        assertRefused(platform.withKey(fullKey, "GET", "/devices/" + b1.id(), null));
        assertRefused(platform.withKey(fullKey, "GET", "/devices/" + b1.id() + "/datapoints", null));
        assertRefused(platform.withKey(fullKey, "GET", "/devices?product_id=" + b.id(), null));
        assertForbidden(platform.withKey(fullKey, "GET", "/products/" + b.id(), null));
    }

    @Test
    void get_only_key_cannot_write() {
        String device = "/devices/" + a1.id();
        assertThat(platform.withKey(readKey, "GET", device, null).errno()).isZero();
        assertThat(platform.withKey(readKey, "GET", device + "/datastreams/temp", null).errno()).isZero();
        assertRefused(platform.withKey(readKey, "PUT", device, Map.of("title", "renamed")));
        assertRefused(platform.withKey(readKey, "DELETE", device, null));
        assertRefused(platform.withKey(readKey, "POST", device + "/datapoints", point("temp", 99)));
        assertRefused(platform.withKey(readKey, "POST", device + "/datastreams", Map.of("id", "speed")));
        assertRefused(platform.withKey(readKey, "PUT", device + "/datastreams/temp", Map.of("unit", "C")));
        assertRefused(platform.withKey(readKey, "DELETE", device + "/datastreams/temp", null));
        assertRefused(platform.withKey(readKey, "POST", "/bindata?device_id=" + a1.id() + "&datastream_id=blob", new byte[] {1}));
        assertThat(platform.withKey(a.masterKey(), "GET", device, null).data().path("title").asText()).isEqualTo("a1");
    }

    @Test
    void stream_key_is_limited_to_its_streams() {
        String device = "/devices/" + a1.id();
        // Details of the device are readable; acting on the device as a whole is not.
        assertThat(platform.withKey(tempKey, "GET", device, null).errno()).isZero();
        assertRefused(platform.withKey(tempKey, "PUT", device, Map.of("desc", "x")));
        assertRefused(platform.withKey(tempKey, "DELETE", device, null));

        assertThat(platform.withKey(tempKey, "GET", device + "/datastreams/temp", null).errno()).isZero();
        assertRefused(platform.withKey(tempKey, "GET", device + "/datastreams/hum", null));
        assertThat(ids(platform.withKey(tempKey, "GET", device + "/datastreams", null).data(), "id")).containsExactly("temp");
        assertThat(ids(platform.withKey(tempKey, "GET", device + "/datastreams?datastream_ids=temp,hum", null).data(), "id"))
                .containsExactly("temp");

        assertThat(platform.withKey(tempKey, "POST", device + "/datapoints", point("temp", 23)).errno()).isZero();
        assertRefused(platform.withKey(tempKey, "POST", device + "/datapoints", point("hum", 41)));
        assertRefused(platform.withKey(tempKey, "POST", device + "/datapoints", points("temp", 24, "hum", 42)));
        assertRefused(platform.withKey(tempKey, "POST", device + "/datastreams", Map.of("id", "speed")));

        JsonNode history = platform.withKey(tempKey, "GET", device + "/datapoints", null).data();
        assertThat(ids(history.path("datastreams"), "id")).containsExactly("temp");
        assertRefused(platform.withKey(tempKey, "GET", device + "/datapoints?datastream_id=hum", null));
        assertRefused(platform.withKey(tempKey, "GET", device + "/datapoints?datastream_id=temp,hum", null));

        JsonNode latest = platform.withKey(tempKey, "GET", "/devices/datapoints?devIds=" + a1.id(), null).data();
        assertThat(ids(latest.path("devices").path(0).path("datastreams"), "id")).containsExactly("temp");
        // The refused points were not stored: hum still holds the master key's 40.
        JsonNode hum = platform.withKey(a.masterKey(), "GET", device + "/datastreams/hum", null).data();
        assertThat(hum.path("current_value").asInt()).isEqualTo(40);
    }

    @Test
    void stream_key_with_a_stream_that_does_not_exist_yet_reads_an_empty_history() {
        String key = createKey(a.masterKey(), "future", List.of("get"), Map.of("dev_id", a2.id(), "ds_id", "later"));
        JsonNode history = platform.withKey(key, "GET", "/devices/" + a2.id() + "/datapoints", null).data();
        assertThat(history.path("count").asInt()).isZero();
        assertThat(history.path("datastreams").size()).isZero();
    }

    @Test
    void binary_points_follow_the_stream_grants() {
        Reply stored = platform.withKey(tempKey, "POST", "/bindata?device_id=" + a1.id() + "&datastream_id=temp", new byte[] {7, 8});
        assertThat(stored.errno()).as(stored.toString()).isZero();
        assertRefused(platform.withKey(tempKey, "POST", "/bindata?device_id=" + a1.id() + "&datastream_id=blob", new byte[] {7}));

        Reply other = platform.withKey(a.masterKey(), "POST", "/bindata?device_id=" + a1.id() + "&datastream_id=blob", "42".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String otherIndex = other.data().path("index").asText();
        assertRefused(platform.withKey(tempKey, "GET", "/bindata/" + otherIndex, null));
        assertThat(platform.withKey(fullKey, "GET", "/bindata/" + otherIndex, null).status()).isEqualTo(200);
    }

    @Test
    void lists_show_only_what_the_key_grants() {
        JsonNode devices = platform.withKey(fullKey, "GET", "/devices", null).data();
        assertThat(devices.path("total_count").asInt()).isEqualTo(1);
        assertThat(ids(devices.path("devices"), "id")).containsExactly(a1.id());

        String all = a1.id() + "," + a2.id() + "," + b1.id();
        assertThat(ids(platform.withKey(fullKey, "GET", "/devices/status?devIds=" + all, null).data().path("devices"), "id"))
                .containsExactly(a1.id());
        assertThat(ids(platform.withKey(fullKey, "GET", "/devices/datapoints?devIds=" + all, null).data().path("devices"), "id"))
                .containsExactly(a1.id());
        // The master key sees both devices of its product.
        assertThat(platform.withKey(a.masterKey(), "GET", "/devices", null).data().path("total_count").asInt()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void device_key_cannot_manage_products_keys_topics_or_create_devices() {
        assertRefused(platform.withKey(fullKey, "POST", "/devices", Map.of("title", "new", "auth_info", "sn-new")));
        assertRefused(platform.withKey(fullKey, "POST", "/keys", Map.of("title", "k",
                "permissions", List.of(Map.of("resources", List.of(Map.of("dev_id", a1.id())))))));
        assertRefused(platform.withKey(fullKey, "GET", "/keys", null));
        assertRefused(platform.withKey(fullKey, "PUT", "/keys/" + readKey, Map.of("title", "stolen")));
        assertRefused(platform.withKey(fullKey, "DELETE", "/keys/" + readKey, null));
        assertRefused(platform.withKey(fullKey, "GET", "/keys/" + readKey + "/devices", null));
        assertRefused(platform.withKey(fullKey, "PUT", "/keys/" + fullKey + "/devices", Map.of("add_dev_ids", List.of(a2.id()))));
        assertForbidden(platform.withKey(fullKey, "GET", "/products", null));
        assertForbidden(platform.withKey(fullKey, "POST", "/products", Map.of("title", "p")));
        assertForbidden(platform.withKey(fullKey, "POST", "/products/" + a.id() + "/master_key", null));
        assertRefused(platform.withKey(fullKey, "POST", "/mqtt?topic=x", "hi"));
        assertRefused(platform.withKey(fullKey, "POST", "/mqtt/topic", Map.of("name", "x")));
        assertRefused(platform.withKey(fullKey, "GET", "/mqtt/topic", null));
        assertRefused(platform.withKey(fullKey, "GET", "/mqtt/device_topic/" + a1.id(), null));
        assertRefused(platform.withKey(fullKey, "GET", "/mqtt/topic_device?topic=x", null));
        assertRefused(platform.withKey(fullKey, "POST", "/cmds?device_id=" + a1.id(), "reboot"));
        assertForbidden(platform.withKey(fullKey, "GET", "/events", null));
        // The keys it tried to change still work as before.
        assertThat(platform.withKey(readKey, "GET", "/devices/" + a1.id(), null).errno()).isZero();
    }

    @Test
    void admin_token_can_do_everything() {
        assertThat(platform.asAdmin("GET", "/devices/" + a2.id(), null).errno()).isZero();
        assertThat(platform.asAdmin("GET", "/devices/" + a1.id() + "/datapoints?datastream_id=hum", null).errno()).isZero();
        Reply key = platform.asAdmin("POST", "/keys?product_id=" + b.id(), Map.of("title", "by admin",
                "permissions", List.of(Map.of("resources", List.of(Map.of("dev_id", b1.id())))))) ;
        assertThat(key.errno()).as(key.toString()).isZero();
        assertThat(platform.asAdmin("GET", "/keys?product_id=" + b.id(), null).data().path("total_count").asInt()).isEqualTo(1);
        assertThat(platform.asAdmin("GET", "/mqtt/topic?product_id=" + a.id(), null).errno()).isZero();
        assertThat(platform.withKey(key.data().path("key").asText(), "GET", "/devices/" + b1.id(), null).errno()).isZero();
    }

    @Test
    void changed_and_deleted_keys_take_effect_at_once() {
        String key = createKey(a.masterKey(), "moving", List.of("get"), Map.of("dev_id", a1.id()));
        assertThat(platform.withKey(key, "GET", "/devices/" + a1.id(), null).errno()).isZero();

        Reply moved = platform.withKey(a.masterKey(), "PUT", "/keys/" + key, Map.of("title", "moved",
                "permissions", List.of(Map.of("access_methods", List.of("get"), "resources", List.of(Map.of("dev_id", a2.id()))))));
        assertThat(moved.errno()).as(moved.toString()).isZero();
        assertRefused(platform.withKey(key, "GET", "/devices/" + a1.id(), null));
        assertThat(platform.withKey(key, "GET", "/devices/" + a2.id(), null).errno()).isZero();

        assertThat(platform.withKey(a.masterKey(), "DELETE", "/keys/" + key, null).errno()).isZero();
        assertRefused(platform.withKey(key, "GET", "/devices/" + a2.id(), null));
    }

    // ---- MQTT ---------------------------------------------------------------------------------------------------

    private static int connack(TestDevice device, String username, String password) throws IOException {
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            return raw.connect(device.id(), username, password, 30, true);
        }
    }

    @Test
    void device_key_is_an_mqtt_password_only_for_the_devices_it_names() throws IOException {
        assertThat(connack(a1, a.id(), fullKey)).isZero();
        assertThat(connack(a2, a.id(), fullKey)).isEqualTo(4);
        assertThat(connack(b1, b.id(), fullKey)).isEqualTo(4);
        assertThat(connack(a1, b.id(), fullKey)).isEqualTo(4); // the product in the user name must still be right
    }

    @Test
    void only_a_key_that_reads_and_writes_the_whole_device_logs_in_as_it() throws IOException {
        // Logged in, a client receives the device's commands and writes any of its streams: a key for one stream,
        // or a read-only one, must not become that.
        assertThat(connack(a1, a.id(), tempKey)).as("every method, one stream").isEqualTo(4);
        assertThat(connack(a1, a.id(), readKey)).as("get on the whole device").isEqualTo(4);
        String getPost = createKey(a.masterKey(), "get-post", List.of("get", "post"), Map.of("dev_id", a1.id()));
        assertThat(connack(a1, a.id(), getPost)).as("get and post on the whole device").isZero();
    }

    @Test
    void auth_info_is_shown_only_to_callers_that_may_change_the_device() {
        for (String key : List.of(readKey, tempKey)) {
            Reply one = platform.withKey(key, "GET", "/devices/" + a1.id(), null);
            assertThat(one.errno()).isZero();
            assertThat(one.data().has("auth_info")).as("GET /devices/{id}").isFalse();
            Reply list = platform.withKey(key, "GET", "/devices", null);
            assertThat(list.data().path("devices")).isNotEmpty().allSatisfy(d -> assertThat(d.has("auth_info")).isFalse());
            // Nor may the list's auth_info filter answer for it.
            Reply probe = platform.withKey(key, "GET", "/devices?auth_info=sn-a1", null);
            assertThat(probe.data().path("devices")).as("probe by auth_info").isEmpty();
        }
        assertThat(platform.withKey(fullKey, "GET", "/devices/" + a1.id(), null).data().path("auth_info").asText()).isEqualTo("sn-a1");
        assertThat(platform.withKey(a.masterKey(), "GET", "/devices/" + a1.id(), null).data().path("auth_info").asText()).isEqualTo("sn-a1");
    }

    @Test
    void deleted_key_is_no_longer_an_mqtt_password() throws IOException {
        String key = createKey(a.masterKey(), "short-lived", List.of("get", "post"), Map.of("dev_id", a2.id()));
        assertThat(connack(a2, a.id(), key)).isZero();
        assertThat(platform.withKey(a.masterKey(), "DELETE", "/keys/" + key, null).errno()).isZero();
        assertThat(connack(a2, a.id(), key)).isEqualTo(4);
    }

    @Test
    void rotated_master_key_stops_working_over_http_and_mqtt() throws IOException {
        TestProduct c = platform.createProduct("keys-rotate");
        TestDevice c1 = platform.createDevice(c, "c1", "sn-c1");
        assertThat(connack(c1, c.id(), c.masterKey())).isZero();

        Reply rotated = platform.asAdmin("POST", "/products/" + c.id() + "/master_key", null);
        String newKey = rotated.data().path("master_key").asText();
        assertThat(newKey).isNotBlank().isNotEqualTo(c.masterKey());

        assertRefused(platform.withKey(c.masterKey(), "GET", "/devices", null));
        assertThat(connack(c1, c.id(), c.masterKey())).isEqualTo(4);
        assertThat(platform.withKey(newKey, "GET", "/devices", null).data().path("total_count").asInt()).isEqualTo(1);
        assertThat(connack(c1, c.id(), newKey)).isZero();
    }

    @Test
    void unknown_keys_get_errno_3_and_a_missing_key_errno_2() {
        assertRefused(platform.withKey("not-a-key", "GET", "/devices", null));
        assertRefused(platform.withKey(fullKey + "x", "GET", "/devices/" + a1.id(), null));
        Reply none = platform.withKey(null, "GET", "/devices", null);
        assertThat(none.errno()).isEqualTo(2);
        assertThat(none.status()).isEqualTo(200);
    }
}
