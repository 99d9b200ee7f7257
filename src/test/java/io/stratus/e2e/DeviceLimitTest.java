package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code devices.max-per-product} (3 here): a product's master key or its register code creates devices up to the
 * bound and then gets errno 13, while another product goes on; deleting a device frees its place.
 */
class DeviceLimitTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass(Map.of("devices.max-per-product", "3"));

    @Test
    void a_product_at_its_device_bound_gets_errno_13_and_others_are_unaffected() {
        TestProduct full = platform.createProduct("full");
        TestProduct other = platform.createProduct("other");
        String code = platform.asAdmin("GET", "/products/" + full.id(), null).data().path("register_code").asText();
        String first = platform.createDevice(full, "d1", "SN-1").id();
        platform.createDevice(full, "d2", "SN-2");
        assertThat(platform.call("POST", "/register_de?register_code=" + code, Map.of("sn", "SN-3"), Map.of()).errno()).isZero();

        Reply byKey = platform.withKey(full.masterKey(), "POST", "/devices", Map.of("title", "d4", "auth_info", "SN-4"));
        Reply byCode = platform.call("POST", "/register_de?register_code=" + code, Map.of("sn", "SN-5"), Map.of());

        assertThat(byKey.errno()).isEqualTo(13);
        assertThat(byKey.body().path("error").asText()).contains("devices.max-per-product");
        assertThat(byCode.errno()).isEqualTo(13);
        assertThat(platform.createDevice(other, "o1", "SN-1").id()).isNotBlank();
        assertThat(MonitoringTest.metricsText(platform)).contains("stratus_devices_refused_total 2");

        assertThat(platform.withKey(full.masterKey(), "DELETE", "/devices/" + first, null).errno()).isZero();
        assertThat(platform.withKey(full.masterKey(), "POST", "/devices", Map.of("title", "d4", "auth_info", "SN-4")).errno()).isZero();
    }
}
