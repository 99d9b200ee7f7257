package io.stratus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class AuthApiTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();


    @Test
    void login_returns_a_token_that_works_as_bearer() {
        Reply login = login("admin", TestPlatform.ADMIN_PASSWORD);
        String token = login.data().path("token").asText();

        Reply r = platform.call("GET", "/products", null, bearer(token));

        assertThat(login.errno()).isZero();
        assertThat(token).isNotBlank();
        assertThat(r.errno()).isZero();
    }

    @Test
    void login_takes_only_json_so_no_web_page_can_send_it_from_a_visitors_browser() throws Exception {
        String body = "{\"username\":\"admin\",\"password\":\"" + TestPlatform.ADMIN_PASSWORD + "\"}";
        for (String type : new String[] {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"}) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + platform.platform().httpPort() + "/auth/login"))
                    .header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.body()).as(type).contains("\"errno\":6").contains("application/json").doesNotContain("token");
        }
        assertThat(login("admin", TestPlatform.ADMIN_PASSWORD).errno()).isZero();
    }

    @Test
    void login_with_wrong_password_is_http_403_errno_3() {
        Reply r = login("admin", "wrong");

        assertThat(r.status()).isEqualTo(403);
        assertThat(r.errno()).isEqualTo(3);
        assertThat(r.body().has("data")).isFalse();
    }

    @Test
    void login_with_wrong_username_is_http_403_errno_3() {
        Reply r = login("root", TestPlatform.ADMIN_PASSWORD);

        assertThat(r.status()).isEqualTo(403);
        assertThat(r.errno()).isEqualTo(3);
    }

    @Test
    void login_without_password_is_errno_7() {
        Reply r = platform.call("POST", "/auth/login", Map.of("username", "admin"), Map.of());

        assertThat(r.errno()).isEqualTo(7);
    }

    @Test
    void login_with_bad_json_is_errno_4() {
        Reply r = platform.call("POST", "/auth/login", "{username", Map.of());

        assertThat(r.errno()).isEqualTo(4);
    }

    @Test
    void logout_invalidates_the_token() {
        String token = login("admin", TestPlatform.ADMIN_PASSWORD).data().path("token").asText();

        Reply logout = platform.call("POST", "/auth/logout", null, bearer(token));
        Reply after = platform.call("GET", "/products", null, bearer(token));

        assertThat(logout.errno()).isZero();
        assertThat(after.status()).isEqualTo(403);
        assertThat(after.errno()).isEqualTo(3);
    }

    @Test
    void logout_leaves_other_sessions_alone() {
        String first = login("admin", TestPlatform.ADMIN_PASSWORD).data().path("token").asText();
        String second = login("admin", TestPlatform.ADMIN_PASSWORD).data().path("token").asText();

        platform.call("POST", "/auth/logout", null, bearer(first));

        assertThat(platform.call("GET", "/products", null, bearer(second)).errno()).isZero();
    }

    @Test
    void logout_without_credentials_is_http_401() {
        Reply r = platform.call("POST", "/auth/logout", null, Map.of());

        assertThat(r.status()).isEqualTo(401);
        assertThat(r.errno()).isEqualTo(2);
    }

    @Test
    void logout_with_a_master_key_is_errno_3() {
        String key = platform.createProduct("logout").masterKey();

        Reply r = platform.withKey(key, "POST", "/auth/logout", null);

        assertThat(r.status()).isEqualTo(403);
        assertThat(r.errno()).isEqualTo(3);
    }

    private static Reply login(String username, String password) {
        return platform.call("POST", "/auth/login", Map.of("username", username, "password", password), Map.of());
    }

    private static Map<String, String> bearer(String token) {
        return Map.of("Authorization", "Bearer " + token);
    }
}
