package io.stratus.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class ProductApiTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();


    @Test
    void create_returns_numeric_id_master_key_and_register_code() {
        Reply r = platform.asAdmin("POST", "/products", Map.of("title", "lamps", "desc", "street lamps", "protocol", "MQTT"));

        assertThat(r.errno()).isZero();
        assertThat(r.data().path("product_id").isTextual()).isTrue();
        assertThat(r.data().path("product_id").asText()).matches("\\d+");
        assertThat(r.data().path("master_key").asText()).isNotBlank();
        assertThat(r.data().path("register_code").asText()).isNotBlank();
    }

    @Test
    void get_shows_the_product() {
        TestProduct p = platform.createProduct("meters");
        platform.createDevice(p, "m1", "meter-1");

        JsonNode product = platform.asAdmin("GET", "/products/" + p.id(), null).data();

        assertThat(product.path("id").asText()).isEqualTo(p.id());
        assertThat(product.path("title").asText()).isEqualTo("meters");
        assertThat(product.path("desc").asText()).isEmpty();
        assertThat(product.path("protocol").asText()).isEqualTo("MQTT");
        assertThat(product.path("master_key").asText()).isEqualTo(p.masterKey());
        assertThat(product.path("register_code").asText()).isNotBlank();
        assertThat(product.path("create_time").asText()).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d");
        assertThat(product.path("device_count").asInt()).isEqualTo(1);
    }

    @Test
    void list_holds_every_product() {
        TestProduct a = platform.createProduct("list-a");
        TestProduct b = platform.createProduct("list-b");

        Reply r = platform.asAdmin("GET", "/products", null);

        assertThat(r.data().isArray()).isTrue();
        assertThat(r.data().findValuesAsText("id")).contains(a.id(), b.id());
    }

    @Test
    void protocol_is_case_insensitive_and_defaults_to_mqtt() {
        Reply lower = platform.asAdmin("POST", "/products", Map.of("title", "lower", "protocol", "mqtt"));
        Reply none = platform.asAdmin("POST", "/products", Map.of("title", "none"));

        assertThat(protocolOf(lower.data().path("product_id").asText())).isEqualTo("MQTT");
        assertThat(protocolOf(none.data().path("product_id").asText())).isEqualTo("MQTT");
    }

    @Test
    void protocol_other_than_mqtt_is_errno_6() {
        Reply r = platform.asAdmin("POST", "/products", Map.of("title", "edp", "protocol", "EDP"));

        assertThat(r.errno()).isEqualTo(6);
    }

    @Test
    void create_without_title_is_errno_7() {
        Reply r = platform.asAdmin("POST", "/products", Map.of("desc", "no title"));

        assertThat(r.errno()).isEqualTo(7);
    }

    @Test
    void title_that_is_not_a_string_is_errno_6() {
        Reply r = platform.asAdmin("POST", "/products", Map.of("title", 42));

        assertThat(r.errno()).isEqualTo(6);
    }

    @Test
    void update_changes_only_the_given_fields() {
        TestProduct p = platform.createProduct("before");

        Reply r = platform.asAdmin("PUT", "/products/" + p.id(), Map.of("desc", "after"));
        JsonNode product = platform.asAdmin("GET", "/products/" + p.id(), null).data();

        assertThat(r.errno()).isZero();
        assertThat(product.path("title").asText()).isEqualTo("before");
        assertThat(product.path("desc").asText()).isEqualTo("after");
    }

    @Test
    void update_with_empty_title_is_errno_6() {
        TestProduct p = platform.createProduct("keep");

        Reply r = platform.asAdmin("PUT", "/products/" + p.id(), Map.of("title", ""));

        assertThat(r.errno()).isEqualTo(6);
    }

    @Test
    void delete_removes_the_product_its_devices_and_its_key() {
        TestProduct p = platform.createProduct("doomed");
        String device = platform.createDevice(p, "d", "doomed-1").id();

        Reply r = platform.asAdmin("DELETE", "/products/" + p.id(), null);

        assertThat(r.errno()).isZero();
        assertThat(platform.asAdmin("GET", "/products/" + p.id(), null).errno()).isEqualTo(8);
        assertThat(platform.asAdmin("GET", "/devices/" + device, null).errno()).isEqualTo(8);
        assertThat(platform.withKey(p.masterKey(), "GET", "/devices", null).errno()).isEqualTo(3);
    }

    @Test
    void unknown_product_is_errno_8() {
        for (String path : List.of("/products/999999999", "/products/abc")) {
            assertThat(platform.asAdmin("GET", path, null).errno()).as(path).isEqualTo(8);
        }
        assertThat(platform.asAdmin("PUT", "/products/999999999", Map.of("title", "x")).errno()).isEqualTo(8);
        assertThat(platform.asAdmin("DELETE", "/products/999999999", null).errno()).isEqualTo(8);
        assertThat(platform.asAdmin("POST", "/products/999999999/master_key", null).errno()).isEqualTo(8);
        assertThat(platform.asAdmin("POST", "/products/999999999/register_code", null).errno()).isEqualTo(8);
    }

    @Test
    void rotating_the_master_key_retires_the_old_one() {
        TestProduct p = platform.createProduct("rotate");

        Reply r = platform.asAdmin("POST", "/products/" + p.id() + "/master_key", null);
        String newKey = r.data().path("master_key").asText();

        assertThat(r.errno()).isZero();
        assertThat(newKey).isNotBlank().isNotEqualTo(p.masterKey());
        Reply old = platform.withKey(p.masterKey(), "GET", "/devices", null);
        assertThat(old.status()).isEqualTo(200);
        assertThat(old.errno()).isEqualTo(3);
        assertThat(platform.withKey(newKey, "GET", "/devices", null).errno()).isZero();
        assertThat(platform.asAdmin("GET", "/products/" + p.id(), null).data().path("master_key").asText()).isEqualTo(newKey);
    }

    @Test
    void rotating_the_register_code_changes_it() {
        TestProduct p = platform.createProduct("register");
        String before = platform.asAdmin("GET", "/products/" + p.id(), null).data().path("register_code").asText();

        Reply r = platform.asAdmin("POST", "/products/" + p.id() + "/register_code", null);

        assertThat(r.errno()).isZero();
        assertThat(r.data().path("register_code").asText()).isNotBlank().isNotEqualTo(before);
        assertThat(platform.asAdmin("GET", "/products/" + p.id(), null).data().path("register_code").asText())
                .isEqualTo(r.data().path("register_code").asText());
    }

    @Test
    void a_master_key_may_not_manage_products_not_even_its_own() {
        TestProduct own = platform.createProduct("own");
        TestProduct other = platform.createProduct("other");
        String key = own.masterKey();

        for (String id : List.of(own.id(), other.id())) {
            assertForbidden(platform.withKey(key, "GET", "/products/" + id, null));
            assertForbidden(platform.withKey(key, "PUT", "/products/" + id, Map.of("title", "x")));
            assertForbidden(platform.withKey(key, "DELETE", "/products/" + id, null));
            assertForbidden(platform.withKey(key, "POST", "/products/" + id + "/master_key", null));
            assertForbidden(platform.withKey(key, "POST", "/products/" + id + "/register_code", null));
        }
        assertForbidden(platform.withKey(key, "GET", "/products", null));
        assertForbidden(platform.withKey(key, "POST", "/products", Map.of("title", "x")));
        assertThat(platform.asAdmin("GET", "/products/" + other.id(), null).data().path("title").asText()).isEqualTo("other");
    }

    @Test
    void products_without_credentials_are_http_401() {
        Reply r = platform.call("GET", "/products", null, Map.of());

        assertThat(r.status()).isEqualTo(401);
        assertThat(r.errno()).isEqualTo(2);
    }

    @Test
    void restart_keeps_products_and_devices(@TempDir Path ownDir) {
        try (TestPlatform p = TestPlatform.start(ownDir)) {
            TestProduct product = p.createProduct("durable");
            String device = p.createDevice(product, "sensor", "durable-1").id();

            p.restart();

            assertThat(p.asAdmin("GET", "/products/" + product.id(), null).data().path("title").asText()).isEqualTo("durable");
            Reply d = p.withKey(product.masterKey(), "GET", "/devices/" + device, null);
            assertThat(d.errno()).isZero();
            assertThat(d.data().path("auth_info").asText()).isEqualTo("durable-1");
            assertThat(d.data().path("title").asText()).isEqualTo("sensor");
        }
    }

    private static String protocolOf(String productId) {
        return platform.asAdmin("GET", "/products/" + productId, null).data().path("protocol").asText();
    }

    private static void assertForbidden(Reply r) {
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.errno()).isEqualTo(3);
    }
}
