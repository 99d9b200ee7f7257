package io.stratus.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stratus.e2e.RawMqtt;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code POST /register_de?register_code=} (OneNET 6.1): self-registration of devices with the product's register code. */
class RegisterTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct product;
    static TestProduct other;
    static String code;
    @TempDir
    Path tightDir;

    @BeforeAll
    static void start() {
        product = platform.createProduct("register");
        other = platform.createProduct("register-other");
        code = registerCode(product);
    }

    private static String registerCode(TestProduct p) {
        return platform.asAdmin("GET", "/products/" + p.id(), null).data().path("register_code").asText();
    }

    /** Without any credential header: the register code is the credential. */
    private static Reply register(String registerCode, Object body) {
        return platform.call("POST", "/register_de" + (registerCode == null ? "" : "?register_code=" + registerCode), body, Map.of());
    }

    @Test
    void registers_a_device_and_returns_a_key_for_just_that_device() throws IOException {
        Reply r = register(code, Map.of("sn", "SN-0001", "title", "meter 1"));

        assertThat(r.errno()).as(r.toString()).isZero();
        String id = r.data().path("device_id").asText();
        String key = r.data().path("key").asText();
        assertThat(id).matches("\\d+");
        assertThat(key).isNotBlank();

        JsonNode device = platform.withKey(key, "GET", "/devices/" + id, null).data();
        assertThat(device.path("title").asText()).isEqualTo("meter 1");
        assertThat(device.path("protocol").asText()).isEqualTo("MQTT");
        assertThat(device.has("auth_info")).as("auth_info, which only a caller that may change the device sees").isFalse();
        // Reading the device and writing its data, nothing more: no changing its auth_info, no deleting it.
        assertThat(platform.withKey(key, "PUT", "/devices/" + id, Map.of("auth_info", "taken over")).errno()).isEqualTo(3);
        assertThat(platform.withKey(key, "DELETE", "/devices/" + id, null).errno()).isEqualTo(3);
        assertThat(platform.withKey(key, "POST", "/devices/" + id + "/datapoints", Map.of("datastreams",
                java.util.List.of(Map.of("id", "kwh", "datapoints", java.util.List.of(Map.of("value", 3)))))).errno()).isZero();
        TestDevice neighbour = platform.createDevice(product, "neighbour", "SN-NEIGHBOUR");
        assertThat(platform.withKey(key, "GET", "/devices/" + neighbour.id(), null).errno()).isEqualTo(3);
        assertThat(platform.withKey(key, "GET", "/keys", null).errno()).isEqualTo(3);
        // The master key lists the new key with the device.
        assertThat(platform.withKey(product.masterKey(), "GET", "/keys?device_id=" + id, null).data().path("keys").get(0)
                .path("key").asText()).isEqualTo(key);
        // ... and the key logs the device in over MQTT.
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            assertThat(raw.connect(id, product.id(), key, 30, true)).isZero();
        }
    }

    @Test
    void an_already_registered_serial_gets_the_same_device_and_key_again() {
        Reply first = register(code, Map.of("sn", "SN-AGAIN"));
        Reply second = register(code, Map.of("sn", "SN-AGAIN", "title", "other title"));

        assertThat(second.errno()).isZero();
        assertThat(second.data().path("device_id").asText()).isEqualTo(first.data().path("device_id").asText());
        assertThat(second.data().path("key").asText()).isEqualTo(first.data().path("key").asText());
        JsonNode device = platform.withKey(product.masterKey(), "GET", "/devices/" + first.data().path("device_id").asText(), null).data();
        assertThat(device.path("title").asText()).isEqualTo("auto_register");
    }

    @Test
    void the_serial_of_a_device_made_by_hand_is_errno_12_and_hands_out_no_key() {
        TestDevice existing = platform.createDevice(product, "made by hand", "SN-HAND");
        String handKey = platform.withKey(product.masterKey(), "POST", "/keys", Map.of("title", "hand-made", "permissions",
                java.util.List.of(Map.of("resources", java.util.List.of(Map.of("dev_id", existing.id())))))).data().path("key").asText();

        Reply r = register(code, Map.of("sn", "SN-HAND"));

        assertThat(r.errno()).as(r.toString()).isEqualTo(12);
        assertThat(r.body().toString()).doesNotContain(handKey).doesNotContain("\"key\"");
        assertThat(platform.withKey(product.masterKey(), "GET", "/keys?device_id=" + existing.id(), null).data()
                .path("keys")).hasSize(1);
    }

    @Test
    void a_registration_whose_key_was_deleted_is_not_granted_a_new_one() {
        Reply first = register(code, Map.of("sn", "SN-REVOKED"));
        String key = first.data().path("key").asText();
        assertThat(platform.withKey(product.masterKey(), "DELETE", "/keys/" + key, null).errno()).isZero();

        assertThat(register(code, Map.of("sn", "SN-REVOKED")).errno()).isEqualTo(12);
    }

    @Test
    void the_title_of_registration_keys_is_reserved() {
        TestDevice d = platform.createDevice(product, "reserved", "SN-RESERVED");
        Reply r = platform.withKey(product.masterKey(), "POST", "/keys", Map.of("title", "register_de", "permissions",
                java.util.List.of(Map.of("resources", java.util.List.of(Map.of("dev_id", d.id()))))));
        assertThat(r.errno()).as(r.toString()).isEqualTo(6);
    }

    @Test
    void register_code_guesses_are_throttled_per_address() {
        // The suite's default budget is 20 failures per address; past it even the right code is refused for a while.
        TestPlatform tight = TestPlatform.start(tightDir, Map.of("auth.max-failures-per-address", "3",
                "auth.backoff-base-millis", "60000"));
        try (tight) {
            TestPlatform.TestProduct p = tight.createProduct("guessed");
            String right = tight.asAdmin("GET", "/products/" + p.id(), null).data().path("register_code").asText();
            for (int i = 0; i < 3; i++) {
                assertThat(tight.call("POST", "/register_de?register_code=guess" + i, Map.of("sn", "SN-G"), Map.of()).errno()).isEqualTo(3);
            }
            Reply blocked = tight.call("POST", "/register_de?register_code=" + right, Map.of("sn", "SN-G"), Map.of());
            assertThat(blocked.errno()).isEqualTo(3);
            assertThat(blocked.body().toString()).contains("too many failed attempts");
        }
    }

    @Test
    void mac_works_like_sn_and_the_title_defaults_to_auto_register() {
        Reply r = register(code, Map.of("mac", "00:11:22:33:44:55"));
        assertThat(r.errno()).isZero();
        JsonNode device = platform.withKey(product.masterKey(), "GET", "/devices/" + r.data().path("device_id").asText(), null).data();
        assertThat(device.path("auth_info").asText()).isEqualTo("00:11:22:33:44:55");
        assertThat(device.path("title").asText()).isEqualTo("auto_register");
    }

    @Test
    void the_same_serial_in_another_product_is_another_device() {
        Reply here = register(code, Map.of("sn", "SN-SHARED"));
        Reply there = register(registerCode(other), Map.of("sn", "SN-SHARED"));
        assertThat(there.errno()).isZero();
        assertThat(there.data().path("device_id").asText()).isNotEqualTo(here.data().path("device_id").asText());
        assertThat(platform.withKey(other.masterKey(), "GET", "/devices/" + there.data().path("device_id").asText(), null).errno()).isZero();
    }

    @Test
    void a_wrong_or_rotated_register_code_gets_errno_3() {
        Reply wrong = register(code + "x", Map.of("sn", "SN-WRONG"));
        assertThat(wrong.errno()).isEqualTo(3);
        assertThat(wrong.status()).isEqualTo(200);
        assertThat(register("a-master-key-is-not-a-register-code" + product.masterKey(), Map.of("sn", "SN-WRONG")).errno()).isEqualTo(3);
        assertThat(register(product.masterKey(), Map.of("sn", "SN-WRONG")).errno()).isEqualTo(3);

        TestProduct rotating = platform.createProduct("register-rotating");
        String old = registerCode(rotating);
        String fresh = platform.asAdmin("POST", "/products/" + rotating.id() + "/register_code", null).data().path("register_code").asText();
        assertThat(register(old, Map.of("sn", "SN-R")).errno()).isEqualTo(3);
        assertThat(register(fresh, Map.of("sn", "SN-R")).errno()).isZero();
        assertThat(platform.withKey(product.masterKey(), "GET", "/devices?auth_info=SN-WRONG", null).data().path("total_count").asInt()).isZero();
    }

    @ParameterizedTest(name = "{0} -> errno {1}")
    @CsvSource(delimiter = '|', value = {
        "{}                          | 7",
        "{\"title\":\"t\"}           | 7",
        "{\"sn\":\"\"}               | 6",
        "{\"sn\":12345}              | 6",
        "{\"mac\":[1]}               | 6",
        "{\"sn\":\"s\",\"title\":7}  | 6",
        "[]                          | 6",
        "{\"sn\":                    | 4",
    })
    void bad_bodies_get_the_right_errno(String body, int errno) {
        Reply r = register(code, body);
        assertThat(r.errno()).as(r.toString()).isEqualTo(errno);
        assertThat(r.status()).isEqualTo(200);
    }

    @Test
    void limits_of_sn_mac_and_title_are_enforced() {
        assertThat(register(code, Map.of("sn", "s".repeat(512))).errno()).isZero();
        assertThat(register(code, Map.of("sn", "s".repeat(513))).errno()).isEqualTo(6);
        assertThat(register(code, Map.of("mac", "m".repeat(33))).errno()).isEqualTo(6);
        assertThat(register(code, Map.of("sn", "SN-LONG-TITLE", "title", "t".repeat(33))).errno()).isEqualTo(6);
        assertThat(register(code, ("{\"sn\":\"" + "x".repeat(70 * 1024) + "\"}").getBytes(UTF_8)).errno()).isEqualTo(5);
        assertThat(register(code, new byte[0]).errno()).isEqualTo(9);
    }

    @Test
    void a_missing_register_code_is_errno_7() {
        assertThat(register(null, Map.of("sn", "SN-NONE")).errno()).isEqualTo(7);
        assertThat(register("", Map.of("sn", "SN-NONE")).errno()).isEqualTo(7);
    }
}
