package io.stratus.hook;

import static io.stratus.hook.HookFixtures.createTrigger;
import static io.stratus.hook.HookFixtures.upload;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stratus.e2e.LogCapture;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hook.deny-networks} end to end: trigger and push URLs into a denied network are refused when configured
 * (IP literals and loopback names), and names that resolve into one get nothing at delivery time. By default that is
 * loopback (the server's own API too), private and link-local ranges, in every spelling of their addresses.
 */
class DenyNetworksTest {
    @TempDir
    Path dataDir;

    /** FAST with {@code denyNetworks}, or with the default list when null. */
    private static Map<String, String> settings(String denyNetworks) {
        Map<String, String> settings = new HashMap<>(HookFixtures.FAST);
        if (denyNetworks != null) {
            settings.put("hook.deny-networks", denyNetworks);
        } else {
            settings.remove("hook.deny-networks");
        }
        return settings;
    }

    private static Map<String, Object> trigger(String url) {
        return Map.of("ds_id", "temp", "url", url, "type", ">", "threshold", -1);
    }

    private static Reply configurePush(TestPlatform platform, TestProduct product, String url) {
        return platform.withKey(product.masterKey(), "PUT", "/products/" + product.id() + "/push",
                Map.of("url", url, "token", "t", "batch", false));
    }

    /** The receiver's URL by the name "localhost": only resolution turns it into a loopback address. */
    private static String byName(Receiver receiver, String path) {
        return receiver.url(path).replace("//127.0.0.1:", "//localhost:");
    }

    private static void assertRefused(Reply r, String block) {
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.errno()).as("%s", r.body()).isEqualTo(6);
        assertThat(r.body().path("error").asText()).contains(block).contains("hook.deny-networks");
    }

    /** A push target refused: errno 6 with the one verification message, whatever the reason. */
    private static void assertPushRefused(Reply r) {
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.errno()).as("%s", r.body()).isEqualTo(6);
        assertThat(r.body().path("error").asText()).isEqualTo("invalid parameter: " + DataPush.VERIFICATION_FAILED);
    }

    @Test
    void by_default_a_trigger_or_push_to_a_cloud_metadata_endpoint_is_refused_with_errno_6() {
        try (TestPlatform platform = TestPlatform.start(dataDir, settings(null))) {
            TestProduct product = platform.createProduct("metadata");
            String key = product.masterKey();

            Reply v4 = platform.withKey(key, "POST", "/triggers", trigger("http://169.254.169.254/latest/meta-data/iam/"));
            assertRefused(v4, "169.254.0.0/16");
            assertThat(v4.body().path("error").asText()).doesNotContain(key);
            assertRefused(platform.withKey(key, "POST", "/triggers", trigger("http://[fd00:ec2::254]/latest/")), "fc00::/7");
            assertRefused(platform.withKey(key, "POST", "/triggers", trigger("http://0.0.0.0:8080/")), "0.0.0.0/8");
            assertThat(platform.withKey(key, "GET", "/triggers", null).data().path("total_count").asInt()).isZero();

            // Updating an allowed trigger to a denied URL is refused too, and the trigger keeps its URL.
            String allowed = "http://192.0.2.1/hook"; // TEST-NET-1: public as far as the policy goes, never routed
            long id = createTrigger(platform, product, trigger(allowed));
            assertRefused(platform.withKey(key, "PUT", "/triggers/" + id, Map.of("url", "http://169.254.169.254/")),
                    "169.254.0.0/16");
            assertThat(platform.withKey(key, "GET", "/triggers/" + id, null).data().path("url").asText()).isEqualTo(allowed);

            assertPushRefused(configurePush(platform, product, "http://169.254.169.254/latest/meta-data/"));
            assertThat(platform.withKey(key, "GET", "/products/" + product.id() + "/push", null).errno()).isEqualTo(8);
        }
    }

    @Test
    void by_default_loopback_in_every_spelling_and_the_servers_own_api_are_refused_before_any_request() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir, settings(null)); Receiver receiver = Receiver.start();
             LogCapture log = LogCapture.of(DataPush.class.getName()).attach()) {
            receiver.answer(r -> Receiver.Reply.ok(r.query().getOrDefault("msg", "ok")));
            TestProduct product = platform.createProduct("tenant");
            String key = product.masterKey();
            int port = receiver.port();
            Map<String, String> spellings = new java.util.LinkedHashMap<>();
            spellings.put("http://127.0.0.1:" + port + "/hook", "127.0.0.0/8");
            spellings.put(byName(receiver, "/hook"), "127.0.0.0/8");
            spellings.put("http://2130706433:" + port + "/hook", "127.0.0.0/8");
            spellings.put("http://0x7f000001:" + port + "/hook", "127.0.0.0/8");
            spellings.put("http://0177.0.0.1:" + port + "/hook", "127.0.0.0/8");
            spellings.put("http://[::1]:" + port + "/hook", "::1/128");
            spellings.put("http://[::ffff:127.0.0.1]:" + port + "/hook", "127.0.0.0/8");
            spellings.put("http://127.0.0.1:" + platform.platform().httpPort() + "/devices", "127.0.0.0/8"); // its own API

            for (Map.Entry<String, String> s : spellings.entrySet()) {
                assertRefused(platform.withKey(key, "POST", "/triggers", trigger(s.getKey())), s.getValue());
                assertPushRefused(configurePush(platform, product, s.getKey()));
            }
            // Forms the JDK's URI does not take as a host at all: refused as malformed, for triggers and push alike.
            for (String noHost : List.of("http://0x7f.1:" + port + "/hook", "http://127.1:" + port + "/hook")) {
                Reply t = platform.withKey(key, "POST", "/triggers", trigger(noHost));
                Reply p = configurePush(platform, product, noHost);
                assertThat(List.of(t, p)).allSatisfy(r -> assertThat(r.body().path("error").asText())
                        .isEqualTo("invalid parameter: url has no host"));
            }

            assertThat(platform.withKey(key, "GET", "/triggers", null).data().path("total_count").asInt()).isZero();
            assertThat(platform.withKey(key, "GET", "/products/" + product.id() + "/push", null).errno()).isEqualTo(8);
            assertThat(receiver.requests()).as("refused before any verification GET").isEmpty();
            // The reason is in the server's log, for the operator.
            assertThat(log.lines("push url verification of product " + product.id() + " to 0x7f000001 failed",
                    "127.0.0.0/8", "hook.deny-networks")).hasSize(1);
        }
    }

    /**
     * A name is not resolved when a URL is configured, so a name that points into a denied network (or is made to,
     * later: DNS rebinding) is caught at delivery. Here the triggers and push target are made while loopback is
     * allowed, then the server restarts with the default list, which denies it: the same stored URLs get nothing.
     */
    @Test
    void a_name_resolving_into_a_denied_network_gets_nothing_and_each_failure_is_counted_and_logged_once_per_target() {
        TestProduct product;
        TestDevice device;
        long triggerId;
        try (Receiver receiver = Receiver.start()) {
            receiver.answer(r -> Receiver.Reply.ok(r.query().getOrDefault("msg", "ok")));
            try (TestPlatform platform = TestPlatform.start(dataDir, settings(HookFixtures.ALLOW_LOOPBACK))) {
                product = platform.createProduct("rebind");
                device = platform.createDevice(product, "d", "rebind-1");
                triggerId = createTrigger(platform, product, trigger(byName(receiver, "/hook")));
                assertThat(configurePush(platform, product, byName(receiver, "/push")).errno()).isZero();

                upload(platform, product, device, "temp", "1");
                // Loopback allowed: one trigger POST and one push POST.
                await().atMost(5, SECONDS).untilAsserted(() -> assertThat(platform.platform().hooks().deliveryStats()
                        .delivered()).isEqualTo(2));
            }
            int before = receiver.requests().size();

            try (TestPlatform platform = TestPlatform.start(dataDir, settings(null));
                 LogCapture log = LogCapture.of(Delivery.class.getName()).attach()) {
                for (int i = 0; i < 3; i++) {
                    upload(platform, product, device, "temp", String.valueOf(10 + i));
                }

                // 3 uploads: 3 trigger POSTs and 3 single-mode push POSTs, each refused at once.
                Hooks hooks = platform.platform().hooks();
                await().atMost(5, SECONDS).untilAsserted(() -> assertThat(hooks.deliveryStats().denied()).isEqualTo(6));
                assertThat(hooks.deliveryStats().failed()).isEqualTo(6);
                assertThat(hooks.deliveryStats().retried()).isZero();
                assertThat(hooks.deliveryStats().delivered()).isZero();
                assertThat(receiver.requests()).hasSize(before);
                assertThat(log.lines("refused")).hasSize(2);
                assertThat(log.lines("trigger " + triggerId + " to localhost refused", "localhost resolves to ",
                        "denied by hook.deny-networks")).hasSize(1);
                assertThat(log.lines("push of product " + product.id() + " to localhost refused")).hasSize(1);
            }
        }
    }
}
