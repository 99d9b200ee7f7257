package io.stratus.hook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The console's view of outbound posts: a trigger's test post, the last outcomes, and {@code GET /overview}. */
class HookActivityTest extends HookReceiverTest {
    private static final String HOOK = "/activity";

    @Test
    void testPostReachesTheUrlAndOutcomesAreListedNewestFirst() {
        TestProduct product = platform.createProduct("activity");
        TestDevice device = platform.createDevice(product, "d", "SN-A");
        long id = HookFixtures.createTrigger(platform, product, Map.of("ds_id", "t", "url", receiver.url(HOOK), "type", ">",
                "threshold", 5, "dev_ids", java.util.List.of(device.id())));
        assertThat(platform.withKey(product.masterKey(), "POST", "/triggers/" + id + "/test", null).data().path("queued").asBoolean())
                .isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> HookFixtures.firings(receiver, HOOK, id).size() == 1);
        JsonNode test = HookFixtures.firings(receiver, HOOK, id).get(0);
        assertThat(test.path("test").asBoolean()).isTrue();
        assertThat(test.path("current_data").get(0).path("dev_id").asText()).isEqualTo(device.id());
        assertThat(test.path("current_data").get(0).path("value").asDouble()).isEqualTo(5.0);

        HookFixtures.upload(platform, product, device, "t", "9");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                platform.withKey(product.masterKey(), "GET", "/triggers/" + id + "/deliveries", null).data().size() == 2);
        JsonNode outcomes = platform.withKey(product.masterKey(), "GET", "/triggers/" + id + "/deliveries", null).data();
        assertThat(outcomes.get(0).path("test").asBoolean()).isFalse();
        assertThat(outcomes.get(1).path("test").asBoolean()).isTrue();
        assertThat(outcomes.get(0).path("delivered").asBoolean()).isTrue();
        assertThat(outcomes.get(0).path("problem").isNull()).isTrue();

        TestProduct other = platform.createProduct("other");
        assertThat(platform.withKey(other.masterKey(), "POST", "/triggers/" + id + "/test", null).errno()).isEqualTo(3);
        assertThat(platform.withKey(other.masterKey(), "GET", "/products/" + product.id() + "/push/deliveries", null).errno())
                .isEqualTo(3);
        assertThat(platform.withKey(product.masterKey(), "GET", "/products/" + product.id() + "/push/deliveries", null).data())
                .isEmpty();
    }

    @Test
    void overviewIsTheMetricsForTheAdminOnly() {
        JsonNode data = platform.asAdmin("GET", "/overview", null).data();
        assertThat(data.path("metrics").has("stratus_mqtt_connections")).isTrue();
        assertThat(data.path("at_ms").asLong()).isPositive();
        TestProduct product = platform.createProduct("not admin");
        assertThat(platform.withKey(product.masterKey(), "GET", "/overview", null).errno()).isEqualTo(3);
    }
}
