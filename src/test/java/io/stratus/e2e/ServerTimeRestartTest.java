package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * D21 (docs/decisions.md) across a restart: points without a time get receive times 1 ms apart, which run ahead of the
 * clock under a burst. A restarted server must carry on after them, not from the clock, or its next points would
 * replace stored, acknowledged ones (found by the crash-consistency harness's batch uploads).
 */
class ServerTimeRestartTest {
    @TempDir
    Path dataDir;

    @Test
    void points_without_time_after_a_restart_do_not_replace_a_burst_that_ran_ahead_of_the_clock() {
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            TestProduct product = platform.createProduct("p");
            TestDevice device = platform.createDevice(product, "d", "sn");
            // 2 x 2500 points in a few milliseconds: their times reach about 5 s past the clock.
            for (int batch = 0; batch < 2; batch++) {
                StringBuilder body = new StringBuilder("{\"datastreams\":[{\"id\":\"s\",\"datapoints\":[");
                for (int k = 0; k < 2500; k++) {
                    body.append(k == 0 ? "" : ",").append("{\"value\":").append(batch * 2500 + k).append('}');
                }
                Points.upload(platform, product.masterKey(), device.id(), body.append("]}]}").toString());
            }
            platform.restart();
            Points.upload(platform, product.masterKey(), device.id(), "{\"datastreams\":[{\"id\":\"s\",\"datapoints\":[{\"value\":-1}]}]}");

            assertThat(Points.all(platform, product.masterKey(), device)).hasSize(5001);
        }
    }
}
