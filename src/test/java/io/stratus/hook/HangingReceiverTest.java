package io.stratus.hook;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A receiver that accepts connections and never answers must not slow ingest: listeners only enqueue, the
 * queues are bounded, and what does not fit is dropped and counted.
 */
class HangingReceiverTest {
    private static final int QUEUE = 50;
    private static final int POINTS = 300;

    @TempDir
    Path dataDir;

    @Test
    void ingest_keeps_acknowledging_and_the_queues_stay_bounded() throws Exception {
        Map<String, String> settings = new HashMap<>(HookFixtures.FAST);
        settings.put("hook.queue", String.valueOf(QUEUE));
        settings.put("hook.timeout-millis", "10000");
        try (TestPlatform platform = TestPlatform.start(dataDir, settings); Receiver receiver = Receiver.start()) {
            TestProduct product = platform.createProduct("hanging");
            TestDevice device = platform.createDevice(product, "d", "hang-1");
            HookFixtures.createTrigger(platform, product, Map.of("ds_id", "temp", "url", receiver.url("/hook"), "type", ">",
                    "threshold", -1));
            receiver.answer(r -> Receiver.Reply.ok(r.query().getOrDefault("msg", "ok")));
            Map<String, Object> body = Map.of("url", receiver.url("/push"), "token", "t", "batch", false);
            assertThat(platform.withKey(product.masterKey(), "PUT", "/products/" + product.id() + "/push", body).errno()).isZero();
            receiver.hang();

            MqttClient client = new MqttClient(platform.mqttUri(), device.id(), new MemoryPersistence());
            MqttConnectOptions options = new MqttConnectOptions();
            options.setUserName(product.id());
            options.setPassword(device.authInfo().toCharArray());
            options.setMaxInflight(1000); // Paho's sync publish can trip its default limit of 10 at this rate
            client.connect(options);
            long start = System.nanoTime();
            try {
                for (int i = 0; i < POINTS; i++) {
                    byte[] json = ("{\"temp\":" + i + "}").getBytes(UTF_8);
                    byte[] dp = new byte[json.length + 3];
                    dp[0] = 3;
                    dp[2] = (byte) json.length;
                    System.arraycopy(json, 0, dp, 3, json.length);
                    client.publish("$dp", dp, 1, false); // returns once PUBACKed, that is once stored
                }
            } finally {
                client.disconnect();
                client.close();
            }
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            HookFixtures.upload(platform, product, device, "temp", "1000"); // HTTP ingest answers too

            Hooks hooks = platform.platform().hooks();
            // Each point fires the trigger and is pushed: 2 posts per point, far more than the senders and queue hold.
            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(hooks.deliveryStats().dropped()).isPositive());
            assertThat(hooks.deliveryStats().queued()).isLessThanOrEqualTo(QUEUE);
            assertThat(hooks.queuedEvents()).isLessThanOrEqualTo(QUEUE);
            assertThat(hooks.deliveryStats().delivered()).isZero();
            // Had ingest waited for one 10 s request timeout, this would be over 10 s.
            assertThat(tookMillis).as("%d QoS 1 $dp with a hanging receiver", POINTS).isLessThan(10_000);
            assertThat(platform.platform().telemetry().storedPointCount()).isEqualTo(POINTS + 1);
        }
    }
}
