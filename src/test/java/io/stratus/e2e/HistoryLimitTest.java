package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * History replies are bounded in the bytes of values they hold ({@code history.max-reply-bytes}): a query whose reply
 * would pass it, paged or down-sampled, is refused with errno 6 before the reply is built, and counted. Here the budget
 * is 100 KiB and the device has 40 string points of 10 KiB each.
 */
class HistoryLimitTest {
    private static final int VALUE_CHARS = 10 * 1024;

    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass(Map.of("history.max-reply-bytes", String.valueOf(100 * 1024)));
    static TestProduct product;
    static TestDevice device;

    @BeforeAll
    static void start() {
        product = platform.createProduct("history-limit");
        device = platform.createDevice(product, "logger", "SN-HL-1");
        for (int i = 0; i < 40; i++) {
            String at = String.format("2026-01-01T00:00:%02d", i);
            Reply r = platform.withKey(product.masterKey(), "POST", "/devices/" + device.id() + "/datapoints?type=4",
                    Map.of("log", Map.of(at, String.valueOf((char) ('a' + i % 26)).repeat(VALUE_CHARS))));
            assertThat(r.errno()).as(r.toString()).isZero();
        }
    }

    @Test
    void a_page_within_the_budget_is_served() {
        Reply r = history("limit=5");
        assertThat(r.errno()).as(r.toString()).isZero();
        assertThat(r.data().path("datastreams").get(0).path("datapoints")).hasSize(5);
    }

    @Test
    void a_page_past_the_budget_is_errno_6_naming_the_limit() {
        Reply r = history("limit=40");
        assertThat(r.errno()).isEqualTo(6);
        assertThat(r.body().path("error").asText()).contains("102400 bytes").contains("shorter window");
        assertThat(r.body().has("data")).isFalse();
    }

    @Test
    void a_downsampled_window_past_the_budget_is_refused_too_and_counted() {
        double before = refused();
        Reply r = history("downsample=2000");
        assertThat(r.errno()).isEqualTo(6);
        assertThat(refused()).isEqualTo(before + 1);
        // Strings are kept as the ends of each bucket; two buckets hold at most four points.
        assertThat(history("downsample=1").errno()).isZero();
    }

    private static Reply history(String query) {
        return platform.withKey(product.masterKey(), "GET", "/devices/" + device.id() + "/datapoints?datastream_id=log&start=2026-01-01T00:00:00&end=2026-01-01T00:01:00&" + query, null);
    }

    private static double refused() {
        String line = MonitoringTest.metricsText(platform).lines()
                .filter(l -> l.startsWith("stratus_history_queries_refused_total ")).findFirst().orElseThrow();
        return Double.parseDouble(line.substring(line.indexOf(' ') + 1));
    }
}
