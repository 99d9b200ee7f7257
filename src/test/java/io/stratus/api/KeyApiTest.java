package io.stratus.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code /keys} (OneNET 6.4): creating, listing, changing and deleting device-level keys, and bad requests. */
class KeyApiTest {
    @TempDir
    static Path dataDir;
    static TestPlatform platform;
    static TestProduct product;
    static TestProduct other;
    static TestDevice d1;
    static TestDevice d2;
    static TestDevice foreign;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(dataDir, Map.of("auth.max-failures-per-address", "1000"));
        product = platform.createProduct("keyapi");
        other = platform.createProduct("keyapi-other");
        d1 = platform.createDevice(product, "lamp one", "k-sn-1");
        d2 = platform.createDevice(product, "lamp two", "k-sn-2");
        foreign = platform.createDevice(other, "foreign", "k-sn-3");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    private static Reply master(String method, String path, Object body) {
        return platform.withKey(product.masterKey(), method, path, body);
    }

    private static Map<String, Object> keyBody(String title, Object... resources) {
        return Map.of("title", title, "permissions", List.of(Map.of("access_methods", List.of("get", "put"),
                "resources", List.of(resources))));
    }

    private static String create(Map<String, Object> body) {
        Reply r = master("POST", "/keys", body);
        assertThat(r.errno()).as(r.toString()).isZero();
        return r.data().path("key").asText();
    }

    private static JsonNode listed(String key) {
        JsonNode keys = master("GET", "/keys?key=" + key, null).data().path("keys");
        assertThat(keys.size()).isEqualTo(1);
        return keys.get(0);
    }

    @Test
    void create_returns_a_key_of_at_least_128_random_bits() {
        String key = create(keyBody("strong", Map.of("dev_id", d1.id())));
        assertThat(Base64.getUrlDecoder().decode(key).length * 8).isGreaterThanOrEqualTo(128);
        assertThat(create(keyBody("strong", Map.of("dev_id", d1.id())))).isNotEqualTo(key);
    }

    @Test
    void list_shows_title_key_create_time_and_permissions_as_onenet_writes_them() {
        String key = create(keyBody("shown", Map.of("dev_id", d1.id(), "ds_id", "gps"), Map.of("dev_id", Long.parseLong(d2.id()))));

        JsonNode k = listed(key);
        assertThat(k.path("title").asText()).isEqualTo("shown");
        assertThat(k.path("key").asText()).isEqualTo(key);
        assertThat(k.path("create_time").asText()).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d.*");
        JsonNode p = k.path("permissions").get(0);
        assertThat(p.path("access_methods").toString()).isEqualTo("[\"get\",\"put\"]");
        assertThat(p.path("resources").toString())
                .isEqualTo("[{\"dev_id\":\"" + d1.id() + "\",\"ds_id\":\"gps\"},{\"dev_id\":\"" + d2.id() + "\"}]");
    }

    @Test
    void access_methods_default_to_all_four() {
        String key = create(Map.of("title", "default", "permissions", List.of(Map.of("resources", List.of(Map.of("dev_id", d1.id()))))));
        assertThat(listed(key).path("permissions").get(0).path("access_methods").toString())
                .isEqualTo("[\"get\",\"put\",\"post\",\"delete\"]");
    }

    @Test
    void list_filters_by_device_and_pages_ten_by_default() {
        TestDevice lonely = platform.createDevice(product, "lonely", "k-sn-lonely");
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            created.add(create(keyBody("page-" + i, Map.of("dev_id", lonely.id()))));
        }
        JsonNode first = master("GET", "/keys?device_id=" + lonely.id(), null).data();
        assertThat(first.path("total_count").asInt()).isEqualTo(12);
        assertThat(first.path("page").asInt()).isEqualTo(1);
        assertThat(first.path("per_page").asInt()).isEqualTo(10);
        assertThat(first.path("keys").size()).isEqualTo(10);
        JsonNode second = master("GET", "/keys?device_id=" + lonely.id() + "&page=2", null).data();
        assertThat(second.path("keys").size()).isEqualTo(2);
        List<String> all = new ArrayList<>();
        first.path("keys").forEach(k -> all.add(k.path("key").asText()));
        second.path("keys").forEach(k -> all.add(k.path("key").asText()));
        assertThat(all).containsExactlyInAnyOrderElementsOf(created);
        assertThat(master("GET", "/keys?device_id=" + lonely.id() + "&per_page=100", null).data().path("keys").size()).isEqualTo(12);
    }

    @Test
    void master_key_is_not_listed_and_cannot_be_changed_as_a_device_key() {
        JsonNode keys = master("GET", "/keys?per_page=100", null).data().path("keys");
        keys.forEach(k -> assertThat(k.path("key").asText()).isNotEqualTo(product.masterKey()));
        assertThat(master("DELETE", "/keys/" + product.masterKey(), null).errno()).isEqualTo(6);
        assertThat(master("PUT", "/keys/" + product.masterKey(), Map.of("title", "x")).errno()).isEqualTo(6);
        assertThat(master("GET", "/devices", null).errno()).isZero();
    }

    @Test
    void put_overwrites_title_and_permissions() {
        String key = create(keyBody("before", Map.of("dev_id", d1.id())));
        Reply r = master("PUT", "/keys/" + key, Map.of("title", "after", "permissions",
                List.of(Map.of("access_methods", List.of("delete"), "resources", List.of(Map.of("dev_id", d2.id()))))));
        assertThat(r.errno()).as(r.toString()).isZero();

        JsonNode k = listed(key);
        assertThat(k.path("title").asText()).isEqualTo("after");
        assertThat(k.path("permissions").toString())
                .isEqualTo("[{\"access_methods\":[\"delete\"],\"resources\":[{\"dev_id\":\"" + d2.id() + "\"}]}]");

        // A title alone leaves the permissions as they are.
        assertThat(master("PUT", "/keys/" + key, Map.of("title", "renamed")).errno()).isZero();
        assertThat(listed(key).path("permissions").get(0).path("access_methods").toString()).isEqualTo("[\"delete\"]");
    }

    @Test
    void delete_removes_the_key() {
        String key = create(keyBody("doomed", Map.of("dev_id", d1.id())));
        assertThat(master("DELETE", "/keys/" + key, null).errno()).isZero();
        assertThat(master("GET", "/keys?key=" + key, null).data().path("total_count").asInt()).isZero();
        assertThat(master("DELETE", "/keys/" + key, null).errno()).isEqualTo(8);
        assertThat(platform.withKey(key, "GET", "/devices/" + d1.id(), null).errno()).isEqualTo(3);
    }

    @Test
    void another_products_master_key_cannot_see_or_change_the_key() {
        String key = create(keyBody("private", Map.of("dev_id", d1.id())));
        assertThat(platform.withKey(other.masterKey(), "GET", "/keys?key=" + key, null).data().path("total_count").asInt()).isZero();
        assertThat(platform.withKey(other.masterKey(), "PUT", "/keys/" + key, Map.of("title", "mine")).errno()).isEqualTo(3);
        assertThat(platform.withKey(other.masterKey(), "DELETE", "/keys/" + key, null).errno()).isEqualTo(3);
        assertThat(platform.withKey(other.masterKey(), "GET", "/keys/" + key + "/devices", null).errno()).isEqualTo(3);
        assertThat(listed(key).path("title").asText()).isEqualTo("private");
    }

    @Test
    void admin_names_the_product_with_product_id() {
        Map<String, Object> body = keyBody("by-admin", Map.of("dev_id", d1.id()));
        assertThat(platform.asAdmin("POST", "/keys", body).errno()).isEqualTo(7);
        assertThat(platform.asAdmin("POST", "/keys?product_id=" + other.id(), body).errno()).isEqualTo(3);
        Reply r = platform.asAdmin("POST", "/keys?product_id=" + product.id(), body);
        assertThat(r.errno()).isZero();
        assertThat(platform.asAdmin("GET", "/keys?product_id=" + product.id() + "&key=" + r.data().path("key").asText(), null)
                .data().path("total_count").asInt()).isEqualTo(1);
    }

    @Test
    void key_devices_lists_the_products_devices_with_is_related_and_put_links_them() {
        String key = create(keyBody("links", Map.of("dev_id", d1.id())));
        JsonNode related = master("GET", "/keys/" + key + "/devices?is_related=true", null).data();
        assertThat(related.path("total_count").asInt()).isEqualTo(1);
        assertThat(related.path("devices").get(0).path("id").asText()).isEqualTo(d1.id());
        assertThat(related.path("devices").get(0).path("is_related").asBoolean()).isTrue();
        JsonNode titled = master("GET", "/keys/" + key + "/devices?device_title=two", null).data();
        assertThat(titled.path("devices").get(0).path("id").asText()).isEqualTo(d2.id());
        assertThat(titled.path("devices").get(0).path("is_related").asBoolean()).isFalse();

        Reply linked = master("PUT", "/keys/" + key + "/devices", Map.of("add_dev_ids", List.of(d2.id()), "del_dev_ids", List.of(d1.id())));
        assertThat(linked.errno()).as(linked.toString()).isZero();
        JsonNode now = master("GET", "/keys/" + key + "/devices?is_related=true", null).data();
        assertThat(now.path("devices").findValuesAsText("id")).containsExactly(d2.id());
        assertThat(platform.withKey(key, "GET", "/devices/" + d2.id(), null).errno()).isZero();
        assertThat(platform.withKey(key, "GET", "/devices/" + d1.id(), null).errno()).isEqualTo(3);

        assertThat(master("PUT", "/keys/" + key + "/devices", Map.of("add_dev_ids", List.of(foreign.id()))).errno()).isEqualTo(3);
        assertThat(master("PUT", "/keys/" + key + "/devices", Map.of("add_dev_ids", List.of("999999999"))).errno()).isEqualTo(8);
        assertThat(master("PUT", "/keys/" + key + "/devices", Map.of("add_dev_ids", List.of())).errno()).isEqualTo(7);
        assertThat(master("PUT", "/keys/" + key + "/devices", Map.of("add_dev_ids", List.of(true))).errno()).isEqualTo(6);
    }

    @ParameterizedTest(name = "{0} -> errno {1}")
    @CsvSource(delimiter = '|', value = {
        "{}                                                                               | 7",
        "{\"title\":\"t\"}                                                                | 7",
        "{\"permissions\":[{\"resources\":[{\"dev_id\":\"D1\"}]}]}                        | 7",
        "{\"title\":5,\"permissions\":[{\"resources\":[{\"dev_id\":\"D1\"}]}]}            | 6",
        "{\"title\":\"t\",\"permissions\":{}}                                             | 6",
        "{\"title\":\"t\",\"permissions\":[]}                                             | 6",
        "{\"title\":\"t\",\"permissions\":[5]}                                            | 6",
        "{\"title\":\"t\",\"permissions\":[{}]}                                           | 7",
        "{\"title\":\"t\",\"permissions\":[{\"resources\":[]}]}                           | 6",
        "{\"title\":\"t\",\"permissions\":[{\"resources\":\"D1\"}]}                       | 6",
        "{\"title\":\"t\",\"permissions\":[{\"resources\":[{}]}]}                          | 7",
        "{\"title\":\"t\",\"permissions\":[{\"resources\":[{\"dev_id\":\"abc\"}]}]}       | 6",
        "{\"title\":\"t\",\"permissions\":[{\"resources\":[{\"dev_id\":-4}]}]}            | 6",
        "{\"title\":\"t\",\"permissions\":[{\"resources\":[{\"dev_id\":1.5}]}]}           | 6",
        "{\"title\":\"t\",\"permissions\":[{\"resources\":[{\"dev_id\":\"999999999\"}]}]} | 8",
        "{\"title\":\"t\",\"permissions\":[{\"resources\":[{\"dev_id\":\"FOREIGN\"}]}]}   | 3",
        "{\"title\":\"t\",\"permissions\":[{\"resources\":[{\"dev_id\":\"D1\",\"ds_id\":5}]}]}  | 6",
        "{\"title\":\"t\",\"permissions\":[{\"resources\":[{\"dev_id\":\"D1\",\"ds_id\":\"\"}]}]} | 6",
        "{\"title\":\"t\",\"permissions\":[{\"access_methods\":[\"patch\"],\"resources\":[{\"dev_id\":\"D1\"}]}]} | 6",
        "{\"title\":\"t\",\"permissions\":[{\"access_methods\":[],\"resources\":[{\"dev_id\":\"D1\"}]}]}        | 6",
        "{\"title\":\"t\",\"permissions\":[{\"access_methods\":\"get\",\"resources\":[{\"dev_id\":\"D1\"}]}]}   | 6",
        "[1,2]                                                                            | 6",
        "{\"title\":                                                                      | 4",
    })
    void bad_key_bodies_get_the_right_errno(String body, int errno) {
        String json = body.replace("D1", d1.id()).replace("FOREIGN", foreign.id());
        Reply r = master("POST", "/keys", json);
        assertThat(r.errno()).as(r.toString()).isEqualTo(errno);
        assertThat(r.status()).isEqualTo(200);
    }

    @Test
    void empty_oversize_and_unknown_key_requests_are_refused_cleanly() {
        assertThat(master("POST", "/keys", new byte[0]).errno()).isEqualTo(9);
        String huge = "{\"title\":\"" + "x".repeat(70 * 1024) + "\"}";
        assertThat(master("POST", "/keys", huge.getBytes(UTF_8)).errno()).isEqualTo(5);
        assertThat(master("PUT", "/keys/no-such-key", Map.of("title", "x")).errno()).isEqualTo(8);
        assertThat(master("GET", "/keys/no-such-key/devices", null).errno()).isEqualTo(8);
        assertThat(master("GET", "/keys?per_page=101", null).errno()).isEqualTo(6);
        assertThat(master("GET", "/keys?page=0", null).errno()).isEqualTo(6);
        assertThat(master("GET", "/keys?device_id=abc", null).errno()).isEqualTo(6);
        String key = create(keyBody("untouched", Map.of("dev_id", d1.id())));
        assertThat(master("PUT", "/keys/" + key, Map.of()).errno()).isEqualTo(7);
        assertThat(master("PUT", "/keys/" + key, Map.of("title", "")).errno()).isEqualTo(6);
        String many = "{\"title\":\"t\",\"permissions\":[{\"resources\":["
                + String.join(",", java.util.Collections.nCopies(1001, "{\"dev_id\":\"" + d1.id() + "\"}")) + "]}]}";
        assertThat(master("POST", "/keys", many).errno()).isEqualTo(6);
    }

    @Test
    void a_deleted_device_leaves_its_keys_and_a_key_left_with_nothing_is_deleted() {
        TestDevice gone = platform.createDevice(product, "gone", "k-sn-gone");
        String only = create(keyBody("only gone", Map.of("dev_id", gone.id())));
        String shared = create(keyBody("shared", Map.of("dev_id", gone.id()), Map.of("dev_id", d1.id())));

        assertThat(master("DELETE", "/devices/" + gone.id(), null).errno()).isZero();

        assertThat(master("GET", "/keys?key=" + only, null).data().path("total_count").asInt()).isZero();
        assertThat(listed(shared).path("permissions").get(0).path("resources").toString())
                .isEqualTo("[{\"dev_id\":\"" + d1.id() + "\"}]");
        assertThat(platform.withKey(shared, "GET", "/devices/" + d1.id(), null).errno()).isZero();
    }

    @Test
    void keys_survive_a_restart(@TempDir Path own) {
        try (TestPlatform p = TestPlatform.start(own)) {
            TestProduct prod = p.createProduct("restart");
            TestDevice dev = p.createDevice(prod, "dev", "r-sn");
            Reply r = p.withKey(prod.masterKey(), "POST", "/keys", Map.of("title", "kept", "permissions",
                    List.of(Map.of("access_methods", List.of("get"), "resources", List.of(Map.of("dev_id", dev.id(), "ds_id", "t")))))) ;
            String key = r.data().path("key").asText();

            p.restart();

            assertThat(p.withKey(key, "GET", "/devices/" + dev.id(), null).errno()).isZero();
            assertThat(p.withKey(key, "PUT", "/devices/" + dev.id(), Map.of("desc", "x")).errno()).isEqualTo(3);
            JsonNode k = p.withKey(prod.masterKey(), "GET", "/keys", null).data().path("keys").get(0);
            assertThat(k.path("title").asText()).isEqualTo("kept");
            assertThat(k.path("permissions").get(0).path("resources").get(0).path("ds_id").asText()).isEqualTo("t");
        }
    }
}
