package io.stratus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The envelope, authentication and the errors every route shares. */
class ApiServerTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct product;

    @BeforeAll
    static void start() {
        product = platform.createProduct("envelope");
    }

    @Test
    void success_has_errno_0_succ_and_data() {
        Reply r = platform.withKey(product.masterKey(), "POST", "/devices", Map.of("title", "t", "auth_info", "succ-1"));

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body().path("errno").asInt()).isZero();
        assertThat(r.body().path("error").asText()).isEqualTo("succ");
        assertThat(r.data().path("device_id").asText()).matches("\\d+");
    }

    @Test
    void a_write_with_nothing_to_return_has_no_data() {
        String id = platform.createDevice(product, "t", "no-data-1").id();

        Reply r = platform.withKey(product.masterKey(), "PUT", "/devices/" + id, Map.of("desc", "d"));

        assertThat(r.errno()).isZero();
        assertThat(r.body().has("data")).isFalse();
    }

    @Test
    void no_api_key_is_errno_2_with_http_200() {
        Reply r = platform.call("GET", "/devices", null, Map.of());

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.errno()).isEqualTo(2);
        assertThat(r.body().path("error").asText()).startsWith("api-key required");
    }

    @Test
    void empty_api_key_counts_as_none() {
        Reply r = platform.call("GET", "/devices", null, Map.of("api-key", ""));

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.errno()).isEqualTo(2);
    }

    @Test
    void wrong_api_key_is_errno_3_with_http_200() {
        Reply r = platform.withKey("not-a-key", "GET", "/devices", null);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.errno()).isEqualTo(3);
        assertThat(r.body().path("error").asText()).isEqualTo("auth failed");
    }

    @Test
    void unknown_bearer_token_is_http_403_errno_3() {
        Reply r = platform.call("GET", "/products", null, Map.of("Authorization", "Bearer nope"));

        assertThat(r.status()).isEqualTo(403);
        assertThat(r.errno()).isEqualTo(3);
    }

    @Test
    void authorization_that_is_not_bearer_is_errno_3() {
        Reply r = platform.call("GET", "/products", null, Map.of("Authorization", "Basic YWRtaW46eA=="));

        assertThat(r.status()).isEqualTo(403);
        assertThat(r.errno()).isEqualTo(3);
    }

    @Test
    void bad_json_is_errno_4() {
        Reply r = platform.withKey(product.masterKey(), "POST", "/devices", "{\"title\": \"t\", ");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.errno()).isEqualTo(4);
    }

    @Test
    void trailing_garbage_after_json_is_errno_4() {
        Reply r = platform.withKey(product.masterKey(), "POST", "/devices", "{\"title\":\"t\",\"auth_info\":\"g\"} x");

        assertThat(r.errno()).isEqualTo(4);
    }

    @Test
    void body_over_64_kib_is_errno_5() {
        String body = "{\"title\":\"t\",\"auth_info\":\"big\",\"desc\":\"" + "x".repeat(70_000) + "\"}";

        Reply r = platform.withKey(product.masterKey(), "POST", "/devices", body);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.errno()).isEqualTo(5);
    }

    @Test
    void chunked_body_over_64_kib_is_errno_5() throws Exception {
        byte[] body = ("{\"title\":\"t\",\"auth_info\":\"chunked\",\"desc\":\"" + "x".repeat(100_000) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        HttpRequest request = HttpRequest.newBuilder(uri("/devices"))
                .header("api-key", product.masterKey())
                .header("Content-Type", "application/json")
                // An input stream has no known length, so the body goes chunked, without Content-Length.
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)))
                .build();

        HttpResponse<String> r = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"errno\":5");
    }

    @Test
    void body_just_under_the_limit_is_accepted() {
        String head = "{\"title\":\"t\",\"auth_info\":\"near-limit\",\"other\":{\"pad\":\"";
        String tail = "\"}}";
        String body = head + "x".repeat(JsonBody.MAX_BYTES - head.length() - tail.length()) + tail;

        Reply r = platform.withKey(product.masterKey(), "POST", "/devices", body);

        assertThat(r.errno()).isZero();
    }

    @Test
    void empty_body_is_errno_9() {
        Reply r = platform.withKey(product.masterKey(), "POST", "/devices", "");

        assertThat(r.errno()).isEqualTo(9);
    }

    @Test
    void body_that_is_not_an_object_is_errno_6() {
        Reply r = platform.withKey(product.masterKey(), "POST", "/devices", "[1,2]");

        assertThat(r.errno()).isEqualTo(6);
    }

    @Test
    void unknown_route_is_http_404_errno_8() {
        Reply r = platform.withKey(product.masterKey(), "GET", "/no/such/thing", null);

        assertThat(r.status()).isEqualTo(404);
        assertThat(r.errno()).isEqualTo(8);
    }

    @Test
    void root_redirects_to_the_console() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri("/")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(r.headers().firstValue("Location")).hasValueSatisfying(l -> assertThat(l).endsWith("/console/"));
    }

    @Test
    void console_files_carry_the_security_headers() throws Exception {
        for (String path : new String[] {"/console/", "/console/js/app.js", "/console/app.css"}) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri(path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(path).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Security-Policy")).as(path)
                    .hasValueSatisfying(csp -> assertThat(csp).contains("script-src 'self'").contains("frame-ancestors 'none'"));
            assertThat(r.headers().firstValue("X-Frame-Options")).as(path).hasValue("DENY");
            assertThat(r.headers().firstValue("X-Content-Type-Options")).as(path).hasValue("nosniff");
        }
    }

    @Test
    void replies_are_json() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri("/devices")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + platform.platform().httpPort() + path);
    }
}
