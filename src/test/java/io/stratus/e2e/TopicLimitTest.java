package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.Config;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * User topics are bounded per product (D26 in docs/decisions.md, {@code topics.max-per-product}, 100,000 by default): a
 * subscription that would record one more gets SUBACK 0x80, counted in {@code stratus_mqtt_topics_refused_total};
 * unsubscribing does not give the topic back (it stays listed), so a SUBSCRIBE/UNSUBSCRIBE loop of new names cannot
 * grow the heap. A store holding more than the limit loads only the limit.
 */
class TopicLimitTest {
    @TempDir
    Path dataDir;

    @Test
    void the_default_limit_is_as_many_topics_as_devices_per_product() {
        Config defaults = Config.of(Map.of());
        assertThat(defaults.topicsMaxPerProduct()).isEqualTo(100_000).isEqualTo(defaults.devicesMaxPerProduct());
    }

    @Test
    void a_subscribe_unsubscribe_loop_of_new_topics_is_refused_past_the_limit_with_suback_0x80() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir, Map.of("topics.max-per-product", "5"))) {
            TestProduct product = platform.createProduct("topic-limit");
            TestDevice device = Clients.device(platform, product, "device");
            String longName = "x".repeat(900);
            try (RawMqtt raw = Clients.raw(platform, device, true, 30)) {
                for (int i = 1; i <= 8; i++) {
                    int code = Clients.subscribe(raw, i, longName + "/" + i, 1);
                    assertThat(code).as("SUBACK of topic %d", i).isEqualTo(i <= 5 ? 1 : 0x80);
                    raw.send(unsubscribePacket(100 + i, longName + "/" + i));
                    assertThat(raw.read().type()).as("UNSUBACK").isEqualTo(Clients.UNSUBACK);
                }
                // Wildcard filters record no topic and are still granted; so is a topic the product already has.
                assertThat(Clients.subscribe(raw, 20, longName + "/+", 1)).isEqualTo(1);
                assertThat(Clients.subscribe(raw, 21, longName + "/3", 0)).isZero();
                Clients.ping(raw);
            }
            assertThat(MonitoringTest.metric(platform, "stratus_mqtt_topics_refused_total")).isEqualTo(3);
            assertThat(platform.withKey(product.masterKey(), "GET", "/mqtt/topic", null).data()).hasSize(5);
        }
    }

    @Test
    void a_store_with_more_topics_than_the_limit_loads_only_the_oldest(@TempDir Path dir) {
        try (TestPlatform platform = TestPlatform.start(dir, Map.of("topics.max-per-product", "10"));
             LogCapture log = LogCapture.of("io.stratus.broker.UserTopics").attach()) {
            TestProduct product = platform.createProduct("topic-restart");
            for (int i = 1; i <= 8; i++) {
                assertThat(platform.withKey(product.masterKey(), "POST", "/mqtt/topic", Map.of("name", "t/" + i)).errno()).isZero();
            }

            platform.restart(Map.of("topics.max-per-product", "3"));

            assertThat(platform.withKey(product.masterKey(), "GET", "/mqtt/topic", null).data().toString())
                    .isEqualTo("[\"t/1\",\"t/2\",\"t/3\"]");
            log.await("5 user topics in the store are over topics.max-per-product (3) and not loaded");
        }
    }

    private static byte[] unsubscribePacket(int packetId, String filter) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        byte[] f = filter.getBytes(StandardCharsets.UTF_8);
        body.write(packetId >> 8);
        body.write(packetId & 0xFF);
        body.write(f.length >> 8);
        body.write(f.length & 0xFF);
        body.writeBytes(f);
        return RawMqtt.packet(0xA2, body.toByteArray());
    }
}
