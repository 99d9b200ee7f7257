package io.stratus.hook;

import static io.stratus.hook.HookFixtures.upload;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.stratus.device.ApiKey;
import io.stratus.e2e.LogCapture;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data push (API "Stratus extensions", docs/decisions.md) against a receiver written as OneNET's samples are: it checks
 * the verification GET's signature and echoes {@code msg}, and recomputes each POST's signature itself.
 */
class DataPushTest {
    private static final String TOKEN = "s3cret-token";

    @TempDir
    static Path dataDir;
    static TestPlatform platform;
    static Receiver receiver;

    @BeforeAll
    static void start() {
        Map<String, String> settings = new HashMap<>(HookFixtures.FAST);
        settings.put("push.batch-max", "3");
        platform = TestPlatform.start(dataDir, settings);
        receiver = Receiver.start();
        receiver.answer(DataPushTest::onenetReceiver);
    }

    @AfterAll
    static void stop() {
        platform.close();
        receiver.close();
    }

    static String md5Base64(String text) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(text.getBytes(UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A receiver as OneNET documents one: GET /good checks signature = base64(md5(token + nonce + msg)) and answers
     * msg; GET /wrong answers something else; GET /broken answers 500; POSTs get 200.
     */
    static Receiver.Reply onenetReceiver(Receiver.Request r) {
        if (!r.method().equals("GET")) {
            return Receiver.Reply.ok("ok");
        }
        Map<String, String> q = r.query();
        String path = r.uri().getPath();
        if (path.equals("/broken")) {
            return new Receiver.Reply(500, q.get("msg"));
        }
        boolean signed = q.get("signature").equals(md5Base64(TOKEN + q.get("nonce") + q.get("msg")));
        return Receiver.Reply.ok(path.startsWith("/good") && signed ? q.get("msg") : "error");
    }

    private static Reply configure(TestProduct product, Map<String, Object> body) {
        return platform.withKey(product.masterKey(), "PUT", "/products/" + product.id() + "/push", body);
    }

    private static Map<String, Object> target(String path) {
        return new HashMap<>(Map.of("url", receiver.url(path), "token", TOKEN));
    }

    /** Every message pushed to {@code path}, after checking each POST's signature as a receiver would. */
    private static List<JsonNode> messages(String path) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode post : receiver.posts(path)) {
            JsonNode msg = post.path("msg");
            String nonce = post.path("nonce").asText();
            assertThat(nonce).hasSize(8).matches("[A-Za-z0-9]+");
            // OneNET's receivers re-serialise msg and sign token + nonce + that text; it must match what was sent.
            String msgText = msg.toString();
            assertThat(post.path("msg_signature").asText()).as("signature of %s", post).isEqualTo(md5Base64(TOKEN + nonce + msgText));
            if (msg.isArray()) {
                msg.forEach(out::add);
            } else {
                out.add(msg);
            }
        }
        return out;
    }

    @Test
    void verification_with_a_correct_echo_stores_the_target() {
        TestProduct product = platform.createProduct("verified");

        Reply put = configure(product, target("/good/verified?app=1"));

        assertThat(put.errno()).as(put.body().toString()).isZero();
        Receiver.Request check = receiver.requests().stream()
                .filter(r -> r.method().equals("GET") && r.uri().getPath().equals("/good/verified")).findFirst().orElseThrow();
        assertThat(check.query()).containsKeys("msg", "nonce", "signature").containsEntry("app", "1");
        assertThat(check.query().get("nonce")).hasSize(8);
        assertThat(check.query().get("signature")).isEqualTo(md5Base64(TOKEN + check.query().get("nonce") + check.query().get("msg")));
        JsonNode got = platform.withKey(product.masterKey(), "GET", "/products/" + product.id() + "/push", null).data();
        assertThat(got.path("url").asText()).isEqualTo(receiver.url("/good/verified?app=1"));
        assertThat(got.path("token").asText()).isEqualTo(TOKEN);
        assertThat(got.path("enabled").asBoolean()).isTrue();
        assertThat(got.path("batch").asBoolean()).isTrue();
    }

    /**
     * Every failed verification is errno 6 with one and the same message: a closed port, a port that accepts and never
     * answers, an HTTP error, a wrong echo or token. Told apart, they would make the verification a port scanner of
     * whatever the server reaches; the reason is in the server's log.
     */
    @Test
    void every_failed_verification_is_the_same_errno_6_and_stores_nothing() throws Exception {
        TestProduct product = platform.createProduct("refused");
        Receiver gone = Receiver.start();
        String closedPort = gone.url("/gone");
        gone.close();
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             LogCapture log = LogCapture.of(DataPush.class.getName()).attach()) {
            String acceptsNeverAnswers = "http://127.0.0.1:" + silent.getLocalPort() + "/silent";

            List<Reply> replies = List.of(
                    configure(product, target("/wrong")),
                    configure(product, target("/broken")),
                    configure(product, Map.of("url", receiver.url("/good/x"), "token", "not-the-token")),
                    configure(product, Map.of("url", closedPort, "token", TOKEN)),
                    configure(product, Map.of("url", acceptsNeverAnswers, "token", TOKEN)));

            assertThat(replies).allSatisfy(r -> {
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.errno()).as(r.body().toString()).isEqualTo(6);
            });
            assertThat(replies).extracting(r -> r.body().toString()).as("one reply for every failure").containsOnly(
                    "{\"errno\":6,\"error\":\"invalid parameter: " + DataPush.VERIFICATION_FAILED + "\"}");
            assertThat(log.lines("push url verification of product " + product.id(), "HTTP 500")).hasSize(1);
            assertThat(log.lines("push url verification of product " + product.id(), "no answer")).hasSize(2);
        }
        assertThat(platform.withKey(product.masterKey(), "GET", "/products/" + product.id() + "/push", null).errno()).isEqualTo(8);
    }

    @Test
    void points_are_pushed_signed_in_batches_of_at_most_the_batch_size() {
        TestProduct product = platform.createProduct("points");
        TestDevice device = platform.createDevice(product, "d", "push-1");
        assertThat(configure(product, target("/good/points")).errno()).isZero();

        upload(platform, product, device, "temp", "1", "2.5", "\"three\"", "{\"v\":4}", "5", "6", "7");

        await().atMost(5, SECONDS).until(() -> messages("/good/points").size() == 7);
        List<JsonNode> posts = receiver.posts("/good/points");
        assertThat(posts).extracting(p -> p.path("msg").size()).containsExactlyInAnyOrder(3, 3, 1);
        List<JsonNode> msgs = messages("/good/points");
        assertThat(msgs).extracting(m -> m.path("value").toString())
                .containsExactlyInAnyOrder("1", "2.5", "\"three\"", "{\"v\":4}", "5", "6", "7");
        JsonNode first = msgs.stream().filter(m -> m.path("value").toString().equals("2.5")).findFirst().orElseThrow();
        assertThat(first.path("type").asInt()).isEqualTo(1);
        assertThat(first.path("dev_id").isIntegralNumber()).isTrue();
        assertThat(first.path("dev_id").asText()).isEqualTo(device.id());
        assertThat(first.path("ds_id").asText()).isEqualTo("temp");
        assertThat(first.path("at").isIntegralNumber()).isTrue();
        assertThat(first.path("at").asLong()).isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(60_000L));
    }

    @Test
    void in_single_mode_each_message_is_its_own_post_with_msg_an_object() {
        TestProduct product = platform.createProduct("single");
        TestDevice device = platform.createDevice(product, "d", "push-2");
        Map<String, Object> body = target("/good/single");
        body.put("batch", false);
        assertThat(configure(product, body).errno()).isZero();

        upload(platform, product, device, "temp", "1", "2");

        await().atMost(5, SECONDS).until(() -> messages("/good/single").size() == 2);
        assertThat(receiver.posts("/good/single")).hasSize(2).allSatisfy(p -> assertThat(p.path("msg").isObject()).isTrue());
    }

    @Test
    void online_and_offline_are_pushed_as_type_2() throws Exception {
        TestProduct product = platform.createProduct("presence");
        TestDevice device = platform.createDevice(product, "d", "push-3");
        assertThat(configure(product, target("/good/presence")).errno()).isZero();

        MqttClient client = new MqttClient(platform.mqttUri(), device.id(), new MemoryPersistence());
        MqttConnectOptions options = new MqttConnectOptions();
        options.setUserName(product.id());
        options.setPassword(device.authInfo().toCharArray());
        client.connect(options);
        await().atMost(5, SECONDS).until(() -> messages("/good/presence").size() == 1);
        client.disconnect();
        client.close();

        await().atMost(5, SECONDS).until(() -> messages("/good/presence").size() == 2);
        List<JsonNode> msgs = messages("/good/presence");
        assertThat(msgs).allSatisfy(m -> {
            assertThat(m.path("type").asInt()).isEqualTo(2);
            assertThat(m.path("dev_id").asText()).isEqualTo(device.id());
            assertThat(m.path("login_type").asInt()).isEqualTo(7);
            assertThat(m.path("at").isIntegralNumber()).isTrue();
        });
        assertThat(msgs).extracting(m -> m.path("status").asInt()).containsExactly(1, 0);
    }

    @Test
    void a_disabled_or_deleted_target_gets_nothing() {
        TestProduct product = platform.createProduct("off");
        TestDevice device = platform.createDevice(product, "d", "push-4");
        Map<String, Object> off = target("/good/off");
        off.put("enabled", false);
        assertThat(configure(product, off).errno()).isZero();
        upload(platform, product, device, "temp", "1");

        assertThat(configure(product, target("/good/off")).errno()).isZero();
        upload(platform, product, device, "temp", "2");
        await().atMost(5, SECONDS).until(() -> messages("/good/off").size() == 1);

        assertThat(platform.withKey(product.masterKey(), "DELETE", "/products/" + product.id() + "/push", null).errno()).isZero();
        upload(platform, product, device, "temp", "3");
        await().during(300, MILLISECONDS).atMost(2, SECONDS).until(() -> messages("/good/off").size() == 1);
        assertThat(messages("/good/off").get(0).path("value").asInt()).isEqualTo(2);
        assertThat(platform.withKey(product.masterKey(), "DELETE", "/products/" + product.id() + "/push", null).errno()).isEqualTo(8);
    }

    @Test
    void the_target_is_stored_and_used_after_a_restart() {
        TestProduct product = platform.createProduct("restart");
        TestDevice device = platform.createDevice(product, "d", "push-6");
        assertThat(configure(product, target("/good/restart")).errno()).isZero();

        platform.restart();

        assertThat(platform.withKey(product.masterKey(), "GET", "/products/" + product.id() + "/push", null).errno()).isZero();
        upload(platform, product, device, "temp", "42");
        await().atMost(5, SECONDS).until(() -> messages("/good/restart").size() == 1);
    }

    @Test
    void bad_requests_get_their_errno_and_only_the_products_manager_may_set_it_up() {
        TestProduct product = platform.createProduct("guarded");
        TestProduct other = platform.createProduct("stranger");
        TestDevice device = platform.createDevice(product, "d", "push-5");
        String deviceKey = platform.platform().registry().keys().create(Long.parseLong(product.id()), "k",
                List.of(new ApiKey.Permission(EnumSet.allOf(ApiKey.Method.class),
                        List.of(new ApiKey.Resource(Long.parseLong(device.id()), null))))).key();
        String path = "/products/" + product.id() + "/push";

        assertThat(configure(product, Map.of("token", TOKEN)).errno()).isEqualTo(7);
        assertThat(configure(product, Map.of("url", receiver.url("/good/g"))).errno()).isEqualTo(7);
        assertThat(configure(product, Map.of("url", "gopher://x", "token", TOKEN)).errno()).isEqualTo(6);
        assertThat(configure(product, Map.of("url", receiver.url("/good/g"), "token", TOKEN, "batch", "yes")).errno()).isEqualTo(6);
        assertThat(platform.withKey(other.masterKey(), "PUT", path, target("/good/g")).errno()).isEqualTo(3);
        assertThat(platform.withKey(other.masterKey(), "GET", path, null).errno()).isEqualTo(3);
        assertThat(platform.withKey(deviceKey, "PUT", path, target("/good/g")).errno()).isEqualTo(3);
        assertThat(platform.withKey(deviceKey, "GET", path, null).errno()).isEqualTo(3);
        assertThat(platform.withKey(product.masterKey(), "GET", path, null).errno()).isEqualTo(8);
        assertThat(platform.withKey(product.masterKey(), "GET", "/products/999999999/push", null).errno()).isEqualTo(8);
        assertThat(platform.asAdmin("PUT", path, target("/good/g")).errno()).isZero();
        assertThat(platform.asAdmin("GET", path, null).errno()).isZero();
    }
}
