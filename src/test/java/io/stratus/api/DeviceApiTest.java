package io.stratus.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Single devices: create, read, change, delete (OneNET 6.1), and who may do it. */
class DeviceApiTest {
    private static final DateTimeFormatter API_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct product;
    static TestProduct otherProduct;

    @BeforeAll
    static void start() {
        product = platform.createProduct("devices");
        otherProduct = platform.createProduct("others");
    }

    @Test
    void create_with_every_field_and_read_it_back() {
        Map<String, Object> body = Map.of("title", "test_device", "desc", "test_desc", "tags", List.of("china", "mobile"),
                "location", Map.of("lon", 109, "lat", 23.54), "auth_info", "tes01235n82105", "private", false,
                "other", Map.of("version", "1.0.0"), "protocol", "MQTT");

        Reply created = post(body);
        String id = created.data().path("device_id").asText();
        JsonNode d = get(id).data();

        assertThat(created.errno()).isZero();
        assertThat(created.data().path("device_id").isTextual()).isTrue();
        assertThat(id).matches("\\d+");
        assertThat(d.path("id").asText()).isEqualTo(id);
        assertThat(d.path("title").asText()).isEqualTo("test_device");
        assertThat(d.path("desc").asText()).isEqualTo("test_desc");
        assertThat(d.path("tags").toString()).isEqualTo("[\"china\",\"mobile\"]");
        assertThat(d.path("location").path("lon").asInt()).isEqualTo(109);
        assertThat(d.path("location").path("lat").asDouble()).isEqualTo(23.54);
        assertThat(d.path("private").asBoolean(true)).isFalse();
        assertThat(d.path("protocol").asText()).isEqualTo("MQTT");
        assertThat(d.path("auth_info").asText()).isEqualTo("tes01235n82105");
        assertThat(d.path("other").path("version").asText()).isEqualTo("1.0.0");
        assertThat(d.path("disabled").asBoolean(true)).isFalse();
        assertThat(d.path("datastreams").isArray()).isTrue();
        assertThat(d.path("datastreams")).isEmpty();
    }

    @Test
    void defaults_of_a_minimal_device() {
        JsonNode d = get(platform.createDevice(product, "minimal", "minimal-1").id()).data();

        assertThat(d.path("private").asBoolean(false)).isTrue();
        assertThat(d.path("protocol").asText()).isEqualTo("MQTT");
        assertThat(d.path("tags").isArray()).isTrue();
        assertThat(d.path("tags")).isEmpty();
        assertThat(d.path("desc").asText()).isEmpty();
        assertThat(d.path("disabled").asBoolean(true)).isFalse();
    }

    @Test
    void a_never_connected_device_is_offline_with_no_login_times() {
        JsonNode d = get(platform.createDevice(product, "new", "never-1").id()).data();

        assertThat(d.path("online").isBoolean()).isTrue();
        assertThat(d.path("online").asBoolean()).isFalse();
        assertThat(d.has("last_login")).isTrue();
        assertThat(d.path("last_login").isNull()).isTrue();
        assertThat(d.path("last_logout").isNull()).isTrue();
    }

    @Test
    void online_and_login_times_follow_the_registry() {
        TestDevice device = platform.createDevice(product, "live", "live-1");
        long id = Long.parseLong(device.id());

        long token = platform.platform().registry().markOnline(id, 0);
        JsonNode online = get(device.id()).data();
        platform.platform().registry().markOffline(id, token);
        JsonNode offline = get(device.id()).data();

        assertThat(online.path("online").asBoolean()).isTrue();
        assertThat(online.path("last_login").asText()).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d");
        assertThat(offline.path("online").asBoolean()).isFalse();
        assertThat(offline.path("last_logout").asText()).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d");
    }

    @Test
    void create_time_is_in_utc_plus_8_by_default() {
        JsonNode d = get(platform.createDevice(product, "clock", "clock-1").id()).data();

        LocalDateTime created = LocalDateTime.parse(d.path("create_time").asText(), API_TIME);
        LocalDateTime nowInBeijing = LocalDateTime.now(ZoneOffset.ofHours(8));
        assertThat(Duration.between(created, nowInBeijing).abs()).isLessThan(Duration.ofMinutes(1));
    }

    @Test
    void create_time_follows_the_api_timezone(@TempDir Path ownDir) {
        try (TestPlatform utc = TestPlatform.start(ownDir, Map.of("api.timezone", "UTC"))) {
            TestProduct p = utc.createProduct("utc");
            String id = utc.createDevice(p, "clock", "utc-1").id();

            JsonNode d = utc.withKey(p.masterKey(), "GET", "/devices/" + id, null).data();

            LocalDateTime created = LocalDateTime.parse(d.path("create_time").asText(), API_TIME);
            assertThat(Duration.between(created, LocalDateTime.now(ZoneOffset.UTC)).abs()).isLessThan(Duration.ofMinutes(1));
        }
    }

    @Test
    void missing_title_or_auth_info_is_errno_7() {
        assertThat(post(Map.of("auth_info", "no-title")).errno()).isEqualTo(7);
        assertThat(post(Map.of("title", "no auth_info")).errno()).isEqualTo(7);
        assertThat(post(Map.of("title", "", "auth_info", "empty-title")).errno()).isEqualTo(7);
    }

    @Test
    void duplicate_auth_info_in_a_product_is_errno_12() {
        platform.createDevice(product, "first", "dup-1");

        Reply r = post(Map.of("title", "second", "auth_info", "dup-1"));

        assertThat(r.errno()).isEqualTo(12);
    }

    @Test
    void the_same_auth_info_in_another_product_is_fine() {
        platform.createDevice(product, "here", "shared-sn");

        Reply r = platform.withKey(otherProduct.masterKey(), "POST", "/devices", Map.of("title", "there", "auth_info", "shared-sn"));

        assertThat(r.errno()).isZero();
    }

    @Test
    void wrongly_typed_fields_are_errno_6() {
        List<Map<String, Object>> bodies = List.of(
                Map.of("title", 42, "auth_info", "typed-1"),
                Map.of("title", "t", "auth_info", 42),
                Map.of("title", "t", "auth_info", "typed-2", "tags", "not-an-array"),
                Map.of("title", "t", "auth_info", "typed-3", "tags", List.of(1, 2)),
                Map.of("title", "t", "auth_info", "typed-4", "location", "here"),
                Map.of("title", "t", "auth_info", "typed-5", "location", Map.of("lon", "east")),
                Map.of("title", "t", "auth_info", "typed-6", "private", "yes"),
                Map.of("title", "t", "auth_info", "typed-7", "other", List.of()),
                Map.of("title", "t", "auth_info", "typed-8", "disabled", 1),
                Map.of("title", "t", "auth_info", "typed-9", "protocol", "EDP"));

        for (Map<String, Object> body : bodies) {
            assertThat(post(body).errno()).as(body.toString()).isEqualTo(6);
        }
    }

    @Test
    void update_changes_the_given_fields_only() {
        TestDevice device = platform.createDevice(product, "old title", "update-1");

        Reply r = put(device.id(), Map.of("title", "new title", "tags", List.of("a"), "disabled", true,
                "location", Map.of("lon", 1, "lat", 2)));
        JsonNode d = get(device.id()).data();

        assertThat(r.errno()).isZero();
        assertThat(r.body().has("data")).isFalse();
        assertThat(d.path("title").asText()).isEqualTo("new title");
        assertThat(d.path("tags").toString()).isEqualTo("[\"a\"]");
        assertThat(d.path("disabled").asBoolean()).isTrue();
        assertThat(d.path("location").path("lat").asInt()).isEqualTo(2);
        assertThat(d.path("auth_info").asText()).isEqualTo("update-1");
        assertThat(d.path("private").asBoolean()).isTrue();
    }

    @Test
    void update_can_change_auth_info_and_frees_the_old_one() {
        TestDevice device = platform.createDevice(product, "mover", "move-from");

        Reply r = put(device.id(), Map.of("auth_info", "move-to"));

        assertThat(r.errno()).isZero();
        assertThat(get(device.id()).data().path("auth_info").asText()).isEqualTo("move-to");
        assertThat(post(Map.of("title", "reuse", "auth_info", "move-from")).errno()).isZero();
    }

    @Test
    void update_to_a_used_auth_info_is_errno_12() {
        platform.createDevice(product, "a", "taken-1");
        TestDevice b = platform.createDevice(product, "b", "taken-2");

        assertThat(put(b.id(), Map.of("auth_info", "taken-1")).errno()).isEqualTo(12);
        assertThat(put(b.id(), Map.of("auth_info", "taken-2")).errno()).isZero();
    }

    @Test
    void update_with_empty_title_or_wrong_types_is_errno_6() {
        TestDevice device = platform.createDevice(product, "strict", "strict-1");

        assertThat(put(device.id(), Map.of("title", "")).errno()).isEqualTo(6);
        assertThat(put(device.id(), Map.of("auth_info", "")).errno()).isEqualTo(6);
        assertThat(put(device.id(), Map.of("tags", Map.of())).errno()).isEqualTo(6);
        assertThat(put(device.id(), Map.of("disabled", "true")).errno()).isEqualTo(6);
        assertThat(get(device.id()).data().path("title").asText()).isEqualTo("strict");
    }

    @Test
    void update_with_bad_json_is_errno_4() {
        TestDevice device = platform.createDevice(product, "json", "json-1");

        assertThat(platform.withKey(product.masterKey(), "PUT", "/devices/" + device.id(), "{\"title\":").errno()).isEqualTo(4);
    }

    @Test
    void delete_removes_the_device() {
        TestDevice device = platform.createDevice(product, "gone", "gone-1");

        Reply r = platform.withKey(product.masterKey(), "DELETE", "/devices/" + device.id(), null);

        assertThat(r.errno()).isZero();
        assertThat(get(device.id()).errno()).isEqualTo(8);
        assertThat(platform.withKey(product.masterKey(), "DELETE", "/devices/" + device.id(), null).errno()).isEqualTo(8);
        assertThat(post(Map.of("title", "again", "auth_info", "gone-1")).errno()).isZero();
    }

    @Test
    void unknown_or_non_numeric_device_ids_are_errno_8() {
        for (String id : List.of("999999999999", "abc", "12x")) {
            assertThat(get(id).errno()).as(id).isEqualTo(8);
            assertThat(put(id, Map.of("title", "x")).errno()).as(id).isEqualTo(8);
            assertThat(platform.withKey(product.masterKey(), "DELETE", "/devices/" + id, null).errno()).as(id).isEqualTo(8);
        }
    }

    @Test
    void a_master_key_of_another_product_gets_errno_3() {
        TestDevice device = platform.createDevice(product, "private", "fenced-1");
        String foreignKey = otherProduct.masterKey();

        List<Reply> replies = List.of(
                platform.withKey(foreignKey, "GET", "/devices/" + device.id(), null),
                platform.withKey(foreignKey, "PUT", "/devices/" + device.id(), Map.of("title", "stolen")),
                platform.withKey(foreignKey, "DELETE", "/devices/" + device.id(), null),
                platform.withKey(foreignKey, "POST", "/devices?product_id=" + product.id(), Map.of("title", "t", "auth_info", "x")),
                platform.withKey(foreignKey, "GET", "/devices?product_id=" + product.id(), null));

        for (Reply r : replies) {
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.errno()).isEqualTo(3);
        }
        assertThat(get(device.id()).data().path("title").asText()).isEqualTo("private");
    }

    @Test
    void a_master_key_may_name_its_own_product() {
        Reply r = platform.withKey(product.masterKey(), "POST", "/devices?product_id=" + product.id(),
                Map.of("title", "t", "auth_info", "own-product-1"));

        assertThat(r.errno()).isZero();
    }

    @Test
    void the_admin_creates_devices_with_product_id() {
        Reply r = platform.asAdmin("POST", "/devices?product_id=" + product.id(), Map.of("title", "by admin", "auth_info", "admin-1"));
        String id = r.data().path("device_id").asText();

        assertThat(r.errno()).isZero();
        assertThat(get(id).data().path("title").asText()).isEqualTo("by admin");
        assertThat(platform.asAdmin("GET", "/devices/" + id, null).errno()).isZero();
        assertThat(platform.asAdmin("PUT", "/devices/" + id, Map.of("desc", "x")).errno()).isZero();
        assertThat(platform.asAdmin("DELETE", "/devices/" + id, null).errno()).isZero();
    }

    @Test
    void the_admin_without_product_id_is_errno_7_and_with_an_unknown_one_errno_8() {
        Map<String, String> body = Map.of("title", "t", "auth_info", "admin-2");

        assertThat(platform.asAdmin("POST", "/devices", body).errno()).isEqualTo(7);
        assertThat(platform.asAdmin("POST", "/devices?product_id=999999999", body).errno()).isEqualTo(8);
        assertThat(platform.asAdmin("POST", "/devices?product_id=abc", body).errno()).isEqualTo(6);
    }

    @Test
    void devices_without_credentials_are_errno_2() {
        TestDevice device = platform.createDevice(product, "anon", "anon-1");

        Reply r = platform.call("GET", "/devices/" + device.id(), null, Map.of());

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.errno()).isEqualTo(2);
    }

    @Test
    void unknown_fields_are_ignored_for_onenet_clients() {
        Map<String, Object> body = new HashMap<>(Map.of("title", "legacy", "auth_info", "legacy-1"));
        body.put("interval", 60);

        assertThat(post(body).errno()).isZero();
    }

    private static Reply post(Map<String, ?> body) {
        return platform.withKey(product.masterKey(), "POST", "/devices", body);
    }

    private static Reply get(String id) {
        return platform.withKey(product.masterKey(), "GET", "/devices/" + id, null);
    }

    private static Reply put(String id, Map<String, ?> body) {
        return platform.withKey(product.masterKey(), "PUT", "/devices/" + id, body);
    }
}
