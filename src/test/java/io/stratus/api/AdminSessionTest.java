package io.stratus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class AdminSessionTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();

    @Test
    void a_session_outlives_a_restart_and_a_logout_before_it_does_not() {
        String kept = login().data().path("token").asText();
        String ended = login().data().path("token").asText();
        platform.call("POST", "/auth/logout", null, bearer(ended));

        platform.restart();

        assertThat(platform.call("GET", "/products", null, bearer(kept)).errno()).isZero();
        assertThat(platform.call("GET", "/products", null, bearer(ended)).errno()).isEqualTo(3);
    }

    @Test
    void login_tells_how_long_the_session_lasts() {
        Reply r = login();

        assertThat(r.data().path("expires_in").asLong()).isEqualTo(24 * 3600);
    }

    private static Reply login() {
        return platform.call("POST", "/auth/login", Map.of("username", "admin", "password", TestPlatform.ADMIN_PASSWORD), Map.of());
    }

    private static Map<String, String> bearer(String token) {
        return Map.of("Authorization", "Bearer " + token);
    }
}
