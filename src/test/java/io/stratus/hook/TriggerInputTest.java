package io.stratus.hook;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.device.ApiKey;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What {@code /triggers} refuses, with which errno (OneNET APIResult), and who may use it. Never an HTTP 500. */
class TriggerInputTest {
    private static final String URL = "http://127.0.0.1:9/hook";

    @TempDir
    static Path dataDir;
    static TestPlatform platform;
    static TestProduct product;
    static TestProduct otherProduct;
    static TestDevice device;
    static TestDevice otherDevice;
    static long triggerId;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(dataDir, HookFixtures.FAST);
        product = platform.createProduct("input");
        otherProduct = platform.createProduct("other");
        device = platform.createDevice(product, "d", "in-1");
        otherDevice = platform.createDevice(otherProduct, "o", "in-2");
        triggerId = HookFixtures.createTrigger(platform, product, valid());
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    private static Map<String, Object> valid() {
        return new HashMap<>(Map.of("title", "t", "ds_id", "temp", "url", URL, "type", ">", "threshold", 10));
    }

    private static Map<String, Object> with(String field, Object value) {
        Map<String, Object> body = valid();
        if (value == null) {
            body.remove(field);
        } else {
            body.put(field, value);
        }
        return body;
    }

    static Stream<Arguments> bad_bodies() {
        return Stream.of(
                Arguments.of("unknown type", with("type", "~"), 6),
                Arguments.of("type not a string", with("type", 3), 6),
                Arguments.of("missing type", with("type", null), 7),
                Arguments.of("missing url", with("url", null), 7),
                Arguments.of("url not http", with("url", "ftp://example.com/x"), 6),
                Arguments.of("url without host", with("url", "http:///x"), 6),
                Arguments.of("url not a url", with("url", "not a url"), 6),
                Arguments.of("missing ds_id", with("ds_id", null), 7),
                Arguments.of("missing threshold", with("threshold", null), 7),
                Arguments.of("threshold as a string", with("threshold", "10"), 6),
                Arguments.of("threshold as an object", with("threshold", Map.of("lolmt", 1, "uplmt", 2)), 6),
                Arguments.of("inout with a number", Map.of("ds_id", "t", "url", URL, "type", "inout", "threshold", 5), 6),
                Arguments.of("inout without uplmt", Map.of("ds_id", "t", "url", URL, "type", "inout", "threshold", Map.of("lolmt", 1)), 7),
                Arguments.of("inout with a string bound", Map.of("ds_id", "t", "url", URL, "type", "inout",
                        "threshold", Map.of("lolmt", "1", "uplmt", 2)), 6),
                Arguments.of("inout upside down", Map.of("ds_id", "t", "url", URL, "type", "inout",
                        "threshold", Map.of("lolmt", 5, "uplmt", 2)), 6),
                Arguments.of("frozen of zero seconds", Map.of("ds_id", "t", "url", URL, "type", "frozen", "threshold", 0), 6),
                Arguments.of("live of negative seconds", Map.of("ds_id", "t", "url", URL, "type", "live", "threshold", -5), 6),
                Arguments.of("dev_ids not an array", with("dev_ids", "123"), 6),
                Arguments.of("dev_ids with a non-id", with("dev_ids", List.of("abc")), 6),
                Arguments.of("dev_ids with an unknown device", with("dev_ids", List.of("999999999")), 8),
                Arguments.of("title too long", with("title", "x".repeat(200)), 6));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bad_bodies")
    void a_bad_body_gets_its_errno(String what, Map<String, Object> body, int errno) {
        Reply r = platform.withKey(product.masterKey(), "POST", "/triggers", body);

        assertThat(r.status()).isNotEqualTo(500);
        assertThat(r.errno()).as(r.body().toString()).isEqualTo(errno);
    }

    @Test
    void bodies_that_are_not_json_objects_are_refused() {
        assertThat(platform.withKey(product.masterKey(), "POST", "/triggers", "{\"ds_id\":").errno()).isEqualTo(4);
        assertThat(platform.withKey(product.masterKey(), "POST", "/triggers", "[1]").errno()).isEqualTo(6);
        assertThat(platform.withKey(product.masterKey(), "POST", "/triggers", "").errno()).isEqualTo(9);
    }

    @Test
    void change_needs_no_threshold_and_dev_ids_may_be_strings_or_numbers() {
        Map<String, Object> body = new HashMap<>(Map.of("ds_id", "t", "url", URL, "type", "change",
                "dev_ids", List.of(device.id(), Long.parseLong(device.id()))));

        Reply r = platform.withKey(product.masterKey(), "POST", "/triggers", body);

        assertThat(r.errno()).as(r.body().toString()).isZero();
        Reply got = platform.withKey(product.masterKey(), "GET", "/triggers/" + r.data().path("trigger_id").asLong(), null);
        assertThat(got.data().path("dev_ids").toString()).isEqualTo("[\"" + device.id() + "\"]");
        assertThat(got.data().path("threshold").isNull()).isTrue();
    }

    @Test
    void unknown_ids_are_errno_8() {
        for (String method : List.of("GET", "PUT", "DELETE")) {
            for (String id : List.of("999999999", "abc")) {
                Reply r = platform.withKey(product.masterKey(), method, "/triggers/" + id, method.equals("PUT") ? valid() : null);
                assertThat(r.errno()).as("%s /triggers/%s: %s", method, id, r.body()).isEqualTo(8);
            }
        }
    }

    @Test
    void a_bad_update_changes_nothing() {
        Reply r = platform.withKey(product.masterKey(), "PUT", "/triggers/" + triggerId, Map.of("type", "inout"));
        Reply wrongThreshold = platform.withKey(product.masterKey(), "PUT", "/triggers/" + triggerId, Map.of("threshold", "high"));
        Reply badType = platform.withKey(product.masterKey(), "PUT", "/triggers/" + triggerId, Map.of("type", "between"));

        assertThat(r.errno()).as("inout needs a range, the old threshold is a number").isEqualTo(7);
        assertThat(wrongThreshold.errno()).isEqualTo(6);
        assertThat(badType.errno()).isEqualTo(6);
        Reply got = platform.withKey(product.masterKey(), "GET", "/triggers/" + triggerId, null);
        assertThat(got.data().path("type").asText()).isEqualTo(">");
        assertThat(got.data().path("threshold").asDouble()).isEqualTo(10.0);
    }

    @Test
    void another_products_key_gets_errno_3_and_does_not_see_the_trigger() {
        Reply get = platform.withKey(otherProduct.masterKey(), "GET", "/triggers/" + triggerId, null);
        Reply put = platform.withKey(otherProduct.masterKey(), "PUT", "/triggers/" + triggerId, Map.of("threshold", 1));
        Reply delete = platform.withKey(otherProduct.masterKey(), "DELETE", "/triggers/" + triggerId, null);
        Reply foreignDevice = platform.withKey(product.masterKey(), "POST", "/triggers", with("dev_ids", List.of(otherDevice.id())));
        Reply list = platform.withKey(otherProduct.masterKey(), "GET", "/triggers", null);

        assertThat(List.of(get.errno(), put.errno(), delete.errno(), foreignDevice.errno())).containsOnly(3);
        assertThat(list.data().path("triggers").toString()).doesNotContain(String.valueOf(triggerId));
        assertThat(platform.withKey(product.masterKey(), "GET", "/triggers/" + triggerId, null).errno()).isZero();
    }

    @Test
    void a_device_level_key_gets_errno_3_even_for_its_own_device() {
        String key = platform.platform().registry().keys().create(Long.parseLong(product.id()), "device key",
                List.of(new ApiKey.Permission(EnumSet.allOf(ApiKey.Method.class),
                        List.of(new ApiKey.Resource(Long.parseLong(device.id()), null))))).key();

        assertThat(platform.withKey(key, "POST", "/triggers", with("dev_ids", List.of(device.id()))).errno()).isEqualTo(3);
        assertThat(platform.withKey(key, "GET", "/triggers", null).errno()).isEqualTo(3);
        assertThat(platform.withKey(key, "GET", "/triggers/" + triggerId, null).errno()).isEqualTo(3);
        assertThat(platform.withKey(key, "DELETE", "/triggers/" + triggerId, null).errno()).isEqualTo(3);
    }

    @Test
    void the_admin_names_the_product() {
        Reply without = platform.asAdmin("POST", "/triggers", valid());
        Reply with = platform.asAdmin("POST", "/triggers?product_id=" + product.id(), valid());
        Reply unknown = platform.asAdmin("POST", "/triggers?product_id=1", valid());

        assertThat(without.errno()).isEqualTo(7);
        assertThat(with.errno()).isZero();
        assertThat(unknown.errno()).isEqualTo(8);
        assertThat(platform.asAdmin("GET", "/triggers/" + with.data().path("trigger_id").asLong(), null).errno()).isZero();
    }

    @Test
    void no_credential_is_errno_2() {
        Reply r = platform.call("GET", "/triggers", null, Map.of());

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.errno()).isEqualTo(2);
    }

    @Test
    void triggers_of_a_deleted_product_are_gone() {
        TestProduct doomed = platform.createProduct("doomed");
        long id = HookFixtures.createTrigger(platform, doomed, valid());

        assertThat(platform.asAdmin("DELETE", "/products/" + doomed.id(), null).errno()).isZero();

        assertThat(platform.asAdmin("GET", "/triggers/" + id, null).errno()).isEqualTo(8);
    }
}
