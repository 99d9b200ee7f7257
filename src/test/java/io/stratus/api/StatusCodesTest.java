package io.stratus.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The HTTP status of errno answers ({@code api.status-codes}). OneNET's Java SDK treats every status but 200 as a
 * transport failure and throws before the application sees the errno, so by default ({@code onenet}) OneNET's routes
 * answer every errno with HTTP 200; with {@code rest} they send 401 (errno 2), 403 (errno 3), 429 (a failed-login
 * back-off) and 503 (errno 13). Stratus's own routes (/auth, /products, /events, /info) send those codes in both modes,
 * and an unknown route is HTTP 404 with errno 8 in both.
 */
class StatusCodesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Every route is called with a wrong key below; the failed-login throttle must not get in the way. */
    private static final Map<String, String> NO_THROTTLE = Map.of("auth.max-failures", "100000",
            "auth.max-failures-per-address", "100000");
    /** OneNET's paths (the API contract, docs/decisions.md); every other registered route is Stratus's own. */
    private static final Pattern ONENET_PATH = Pattern.compile("/(devices|bindata|register_de|keys|mqtt|cmds|triggers)(/.*)?");
    /** Routes without a credential: probes, the API description, the console redirect and the two logins. */
    private static final Set<String> OPEN = Set.of("GET /", "GET /openapi.json", "GET /healthz", "GET /healthz/live",
            "GET /healthz/ready", "GET /metrics", "POST /auth/login", "POST /register_de");

    @RegisterExtension
    static final TestPlatform onenet = TestPlatform.perClass(NO_THROTTLE);
    @RegisterExtension
    static final TestPlatform rest = TestPlatform.perClass(with(NO_THROTTLE, "api.status-codes", "rest"));

    static TestDevice onenetDevice;
    static TestDevice restDevice;

    @BeforeAll
    static void devices() {
        onenetDevice = onenet.createDevice(onenet.createProduct("sdk"), "d", "sdk-1");
        restDevice = rest.createDevice(rest.createProduct("sdk"), "d", "sdk-1");
    }

    @Test
    void the_onenet_java_sdk_reads_errno_3_for_a_wrong_key_because_the_status_is_200() throws Exception {
        HttpResponse<String> r = sdkGetDevice(onenet, onenetDevice, "wrong");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        assertThat(errno(r)).isEqualTo(3);
        assertThat(JSON.readTree(r.body()).path("error").asText()).isEqualTo("auth failed");
    }

    @Test
    void the_onenet_java_sdk_reads_errno_2_without_a_key_because_the_status_is_200() throws Exception {
        HttpResponse<String> r = sdkGetDevice(onenet, onenetDevice, null);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(errno(r)).isEqualTo(2);
    }

    @Test
    void with_rest_status_codes_a_wrong_key_is_http_403_and_no_key_http_401() throws Exception {
        HttpResponse<String> wrong = sdkGetDevice(rest, restDevice, "wrong");
        HttpResponse<String> none = sdkGetDevice(rest, restDevice, null);

        assertThat(wrong.statusCode()).isEqualTo(403);
        assertThat(errno(wrong)).isEqualTo(3);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(errno(none)).isEqualTo(2);
    }

    @Test
    void a_bad_admin_token_on_products_is_http_403_and_none_http_401_in_both_modes() throws Exception {
        for (TestPlatform platform : new TestPlatform[] {onenet, rest}) {
            HttpResponse<String> bad = send(platform, "GET", "/products", null, Map.of("Authorization", "Bearer not-a-token"));
            HttpResponse<String> none = send(platform, "GET", "/products", null, Map.of());

            assertThat(bad.statusCode()).isEqualTo(403);
            assertThat(errno(bad)).isEqualTo(3);
            assertThat(none.statusCode()).isEqualTo(401);
            assertThat(errno(none)).isEqualTo(2);
        }
    }

    @Test
    void every_onenet_route_refuses_with_http_200_and_every_stratus_route_with_403_or_401() throws Exception {
        assertRefusals(onenet, 200, 200);
    }

    @Test
    void with_rest_status_codes_every_route_refuses_with_403_or_401() throws Exception {
        assertRefusals(rest, 403, 401);
    }

    @Test
    void an_unknown_route_is_http_404_with_errno_8_in_both_modes() throws Exception {
        for (TestPlatform platform : new TestPlatform[] {onenet, rest}) {
            for (String path : new String[] {"/nothing", "/devices/1/nothing"}) {
                HttpResponse<String> r = send(platform, "GET", path, null, Map.of("api-key", "wrong"));

                assertThat(r.statusCode()).as(path).isEqualTo(404);
                assertThat(errno(r)).as(path).isEqualTo(8);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"onenet", "rest"})
    void a_login_back_off_is_http_429_on_stratus_routes_and_on_onenet_routes_only_with_rest(String mode, @TempDir Path dir)
            throws Exception {
        Map<String, String> tight = Map.of("api.status-codes", mode, "auth.max-failures", "2", "auth.max-failures-per-address", "2",
                "auth.backoff-base-millis", "60000");
        try (TestPlatform platform = TestPlatform.start(dir, tight)) {
            TestProduct product = platform.createProduct("p");
            String token = platform.adminToken();
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> wrong = login(platform, "guess-" + i);
                assertThat(wrong.statusCode()).isEqualTo(403);
                assertThat(errno(wrong)).isEqualTo(3);
            }

            HttpResponse<String> right = login(platform, TestPlatform.ADMIN_PASSWORD);
            HttpResponse<String> products = send(platform, "GET", "/products", null, Map.of("Authorization", "Bearer " + token));
            HttpResponse<String> devices = send(platform, "GET", "/devices", null, Map.of("api-key", product.masterKey()));

            assertThat(right.statusCode()).isEqualTo(429);
            assertThat(products.statusCode()).isEqualTo(429);
            assertThat(devices.statusCode()).isEqualTo(mode.equals("rest") ? 429 : 200);
            for (HttpResponse<String> blocked : List.of(right, products, devices)) {
                assertThat(errno(blocked)).as(blocked.uri().getPath()).isEqualTo(3);
                assertThat(blocked.headers().firstValue("Retry-After")).as(blocked.uri().getPath()).isPresent();
            }
        }
    }

    /**
     * Calls every route that needs a credential with a wrong key and with none: errno 3 and 2, with the given statuses
     * on OneNET's routes and 403 and 401 on Stratus's own. Routes come from the router, so a new one is covered.
     */
    private static void assertRefusals(TestPlatform platform, int onenetWrong, int onenetNone) throws Exception {
        SoftAssertions soft = new SoftAssertions();
        int checked = 0;
        for (String endpoint : platform.platform().api().endpoints()) {
            if (OPEN.contains(endpoint)) {
                continue;
            }
            String method = endpoint.substring(0, endpoint.indexOf(' '));
            String path = endpoint.substring(endpoint.indexOf(' ') + 1).replaceAll("\\{[^}]+}", "1");
            boolean onenetRoute = ONENET_PATH.matcher(path).matches();
            HttpResponse<String> wrong = send(platform, method, path, null, Map.of("api-key", "wrong"));
            HttpResponse<String> none = send(platform, method, path, null, Map.of());
            soft.assertThat(errno(wrong)).as("%s with a wrong key: errno", endpoint).isEqualTo(3);
            soft.assertThat(wrong.statusCode()).as("%s with a wrong key: HTTP status", endpoint)
                    .isEqualTo(onenetRoute ? onenetWrong : 403);
            soft.assertThat(errno(none)).as("%s without a key: errno", endpoint).isEqualTo(2);
            soft.assertThat(none.statusCode()).as("%s without a key: HTTP status", endpoint)
                    .isEqualTo(onenetRoute ? onenetNone : 401);
            checked++;
        }
        soft.assertAll();
        assertThat(checked).as("routes that need a credential").isGreaterThan(40);
    }

    /** What OneNET's Java SDK sends for GetDeviceApi: {@code GET /devices/{id}} with the {@code api-key} header only. */
    private static HttpResponse<String> sdkGetDevice(TestPlatform platform, TestDevice device, String key) throws Exception {
        return send(platform, "GET", "/devices/" + device.id(), null, key == null ? Map.of() : Map.of("api-key", key));
    }

    private static HttpResponse<String> login(TestPlatform platform, String password) throws Exception {
        return send(platform, "POST", "/auth/login", "{\"username\":\"admin\",\"password\":\"" + password + "\"}",
                Map.of("Content-Type", "application/json"));
    }

    private static HttpResponse<String> send(TestPlatform platform, String method, String path, String body,
                                             Map<String, String> headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.platform().httpPort() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int errno(HttpResponse<String> r) throws IOException {
        JsonNode body = JSON.readTree(r.body());
        return body == null ? -1 : body.path("errno").asInt(-1);
    }

    private static Map<String, String> with(Map<String, String> settings, String key, String value) {
        Map<String, String> all = new HashMap<>(settings);
        all.put(key, value);
        return all;
    }
}
