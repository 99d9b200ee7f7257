package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.e2e.Points.Point;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** History older than {@code history.max-age-days} is removed in the background; newer points and latest values stay. */
class RetentionTest {
    @TempDir
    Path dir;

    private static final String OLD_AND_NEW = """
            {"datastreams":[{"id":"t","datapoints":[{"at":"2015-03-22T10:00:00","value":1},{"at":"2015-03-23T10:00:00","value":2}]},
            {"id":"h","datapoints":[{"value":3}]}]}""";

    @Test
    void points_older_than_the_maximum_age_are_removed_and_newer_ones_kept() {
        try (TestPlatform p = TestPlatform.start(dir, Map.of("history.max-age-days", "30"))) {
            TestProduct product = p.createProduct("retention");
            TestDevice device = p.createDevice(product, "d", "sn-r");
            Points.upload(p, product.masterKey(), device.id(), OLD_AND_NEW);
            assertThat(Points.all(p, product.masterKey(), device)).hasSize(3);

            int removed = p.platform().telemetry().enforceRetention();

            assertThat(removed).isEqualTo(2);
            List<Point> left = Points.all(p, product.masterKey(), device);
            assertThat(left).extracting(Point::stream).containsExactly("h");
            assertThat(p.platform().telemetry().enforceRetention()).isZero();
        }
    }

    @Test
    void history_is_kept_forever_by_default() {
        try (TestPlatform p = TestPlatform.start(dir)) {
            TestProduct product = p.createProduct("forever");
            TestDevice device = p.createDevice(product, "d", "sn-f");
            Points.upload(p, product.masterKey(), device.id(), OLD_AND_NEW);

            assertThat(p.platform().telemetry().enforceRetention()).isZero();
            assertThat(Points.all(p, product.masterKey(), device)).hasSize(3);
        }
    }
}
