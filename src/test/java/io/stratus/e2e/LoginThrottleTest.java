package io.stratus.e2e;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.net.Socket;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failed logins are rate-limited per device and per client address with exponential back-off (auth.* settings):
 * MQTT gets CONNACK 5 while blocked, even with the right password (D5, docs/decisions.md); HTTP gets errno 3 with
 * Retry-After (HTTP 429 on Stratus's own routes such as /auth/login, 200 on OneNET's: see StatusCodesTest). The block
 * lifts by itself.
 */
class LoginThrottleTest {
    private static final Map<String, String> TIGHT = Map.of("auth.max-failures", "3", "auth.max-failures-per-address", "6",
            "auth.backoff-base-millis", "500", "auth.backoff-max-millis", "1000");

    @TempDir
    Path dataDir;

    @Test
    void a_device_with_repeated_wrong_passwords_gets_connack_5_even_with_the_right_one_until_the_back_off_ends() throws IOException {
        try (TestPlatform platform = TestPlatform.start(dataDir, TIGHT)) {
            TestProduct product = platform.createProduct("p");
            TestDevice device = platform.createDevice(product, "d", "right-sn");
            for (int i = 0; i < 3; i++) {
                assertThat(connect(platform, device, "wrong")).as("attempt " + i).isEqualTo(4);
            }

            assertThat(connect(platform, device, "right-sn")).as("blocked: D5 code 5").isEqualTo(5);

            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(connect(platform, device, "right-sn")).isZero());
        }
    }

    @Test
    void failures_from_one_address_never_lock_the_device_out_of_another() throws IOException {
        try (TestPlatform platform = TestPlatform.start(dataDir, TIGHT)) {
            TestProduct product = platform.createProduct("p");
            TestDevice victim = platform.createDevice(product, "victim", "victim-sn");
            // Anyone who knows the device id, with any user name: blocked where they try from, and only there.
            for (int i = 0; i < 5; i++) {
                try (RawMqtt raw = new RawMqtt(platform.mqttPort(), "127.0.0.2")) {
                    raw.connect(victim.id(), "any-" + i, "guess", 30, true);
                }
            }
            try (RawMqtt raw = new RawMqtt(platform.mqttPort(), "127.0.0.2")) {
                assertThat(raw.connect(victim.id(), product.id(), "victim-sn", 30, true)).as("the guesser's address").isEqualTo(5);
            }

            assertThat(connect(platform, victim, "victim-sn")).as("the device, from its own address").isZero();
        }
    }

    @Test
    void another_device_is_not_blocked_by_a_neighbours_failures_below_the_address_threshold() throws IOException {
        try (TestPlatform platform = TestPlatform.start(dataDir, TIGHT)) {
            TestProduct product = platform.createProduct("p");
            TestDevice attacked = platform.createDevice(product, "a", "a-sn");
            TestDevice other = platform.createDevice(product, "b", "b-sn");
            for (int i = 0; i < 3; i++) {
                connect(platform, attacked, "wrong");
            }

            assertThat(connect(platform, other, "b-sn")).isZero();
        }
    }

    @Test
    void an_address_guessing_across_devices_is_blocked() throws IOException {
        try (TestPlatform platform = TestPlatform.start(dataDir, TIGHT)) {
            TestProduct product = platform.createProduct("p");
            TestDevice device = platform.createDevice(product, "d", "sn");
            for (int i = 0; i < 6; i++) {
                // unknown device ids: each a fresh device key, all from 127.0.0.1
                try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                    assertThat(raw.connect("9" + i + "00000", product.id(), "guess", 30, true)).isEqualTo(2);
                }
            }

            assertThat(connect(platform, device, "sn")).isEqualTo(5);
        }
    }

    @Test
    void bad_api_keys_get_errno_3_and_retry_after_once_the_address_is_blocked() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir, TIGHT)) {
            TestProduct product = platform.createProduct("p");
            for (int i = 0; i < 6; i++) {
                Reply r = platform.withKey("bad-key-" + i, "GET", "/devices", null);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.errno()).isEqualTo(3);
            }

            HttpResponse<String> blocked = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + platform.platform().httpPort() + "/devices")).header("api-key", product.masterKey()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(blocked.statusCode()).as("a OneNET route: errno with HTTP 200").isEqualTo(200);
            assertThat(blocked.body()).contains("\"errno\":3");
            assertThat(blocked.headers().firstValue("Retry-After")).isPresent();

            await().atMost(5, SECONDS).untilAsserted(() ->
                    assertThat(platform.withKey(product.masterKey(), "GET", "/devices", null).errno()).isZero());
        }
    }

    @Test
    void wrong_admin_passwords_are_blocked_per_account() {
        try (TestPlatform platform = TestPlatform.start(dataDir, TIGHT)) {
            for (int i = 0; i < 3; i++) {
                Reply r = platform.call("POST", "/auth/login", Map.of("username", "admin", "password", "guess" + i), Map.of());
                assertThat(r.errno()).isEqualTo(3);
                assertThat(r.status()).isEqualTo(403);
            }

            Reply right = platform.call("POST", "/auth/login", Map.of("username", "admin", "password", TestPlatform.ADMIN_PASSWORD), Map.of());
            assertThat(right.status()).isEqualTo(429);
            assertThat(right.errno()).isEqualTo(3);

            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(platform.call("POST", "/auth/login",
                    Map.of("username", "admin", "password", TestPlatform.ADMIN_PASSWORD), Map.of()).errno()).isZero());
        }
    }

    @Test
    void wrong_admin_passwords_from_another_address_do_not_block_the_admin_here() throws IOException {
        try (TestPlatform platform = TestPlatform.start(dataDir, TIGHT)) {
            for (int i = 0; i < 4; i++) {
                assertThat(loginFrom("127.0.0.2", platform, "guess" + i)).contains("\"errno\":3");
            }
            assertThat(loginFrom("127.0.0.2", platform, TestPlatform.ADMIN_PASSWORD)).as("the guesser's address")
                    .startsWith("HTTP/1.1 429").doesNotContain("token");

            Reply here = platform.call("POST", "/auth/login", Map.of("username", "admin", "password", TestPlatform.ADMIN_PASSWORD), Map.of());
            assertThat(here.errno()).as("the admin's own address").isZero();
        }
    }

    /** A login POSTed over a plain socket from {@code localAddress}; the whole HTTP response. */
    private static String loginFrom(String localAddress, TestPlatform platform, String password) throws IOException {
        String body = "{\"username\":\"admin\",\"password\":\"" + password + "\"}";
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(localAddress, 0));
            s.connect(new InetSocketAddress("127.0.0.1", platform.platform().httpPort()), 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void failures_show_in_metrics() {
        try (TestPlatform platform = TestPlatform.start(dataDir, TIGHT)) {
            platform.withKey("bad", "GET", "/devices", null);
            String metrics = MonitoringTest.metricsText(platform);
            assertThat(metrics).contains("stratus_auth_failures_total 1");
        }
    }

    private static int connect(TestPlatform platform, TestDevice device, String password) throws IOException {
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            return raw.connect(device.id(), device.productId(), password, 30, true);
        }
    }
}
