package io.stratus.hook;

import static io.stratus.hook.HookFixtures.createTrigger;
import static io.stratus.hook.HookFixtures.firedValues;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import io.stratus.cluster.NatsServer;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import io.stratus.store.PostgresServer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Triggers and data push across two nodes on one database: set, changed and removed through node 1's API after both
 * started, they apply to points stored on node 2 (its device connected there), which fires them once.
 */
class ClusterHooksTest {
    private static final String HOOK = "/hook";
    private static final String TOKEN = "s3cret-token";

    private NatsServer nats;
    private TestPlatform node1;
    private TestPlatform node2;
    private Receiver receiver;
    private Mqtt3BlockingClient device;

    @BeforeEach
    void start() throws Exception {
        receiver = Receiver.start();
        receiver.answer(DataPushTest::onenetReceiver);
        nats = NatsServer.start();
        String store = PostgresServer.get().createDatabase();
        node1 = TestPlatform.start(Files.createTempDirectory("stratus-node1"), settings(store, "node1"));
        node2 = TestPlatform.start(Files.createTempDirectory("stratus-node2"), settings(store, "node2"));
    }

    @AfterEach
    void stop() {
        if (device != null && device.getState().isConnected()) {
            device.disconnect();
        }
        for (AutoCloseable part : new AutoCloseable[] {node2, node1, nats, receiver}) {
            try {
                if (part != null) {
                    part.close();
                }
            } catch (Exception e) {
                // the next part still stops
            }
        }
    }

    @Test
    void a_trigger_made_changed_and_deleted_on_node_1_applies_to_points_stored_on_node_2_once() {
        TestProduct product = node1.createProduct("triggers");
        TestDevice d = node1.createDevice(product, "d", "sn-trigger");
        connectToNode2(product, d);
        long id = createTrigger(node1, product, Map.of("title", "hot", "ds_id", "temp", "type", ">", "threshold", 50,
                "url", receiver.url(HOOK)));
        await().atMost(5, SECONDS).until(() -> triggerOn(node2, product, id).path("threshold").asDouble() == 50);

        publish("{\"temp\":10}");
        publish("{\"temp\":80}");
        awaitExactly(() -> firedValues(receiver, HOOK, id), 1);
        assertThat(firedValues(receiver, HOOK, id)).containsExactly("80");

        Reply changed = node1.withKey(product.masterKey(), "PUT", "/triggers/" + id, Map.of("threshold", 100));
        assertThat(changed.errno()).as(changed.body().toString()).isZero();
        await().atMost(5, SECONDS).until(() -> triggerOn(node2, product, id).path("threshold").asDouble() == 100);
        publish("{\"temp\":90}");
        publish("{\"temp\":120}");
        awaitExactly(() -> firedValues(receiver, HOOK, id), 2);
        assertThat(firedValues(receiver, HOOK, id)).containsExactly("80", "120");

        Reply deleted = node1.withKey(product.masterKey(), "DELETE", "/triggers/" + id, null);
        assertThat(deleted.errno()).as(deleted.body().toString()).isZero();
        await().atMost(5, SECONDS).until(() -> triggerOn(node2, product, id).isMissingNode());
        publish("{\"temp\":200}");
        awaitExactly(() -> firedValues(receiver, HOOK, id), 2);
        assertThat(node2.metric("stratus_cluster_registry_changes_applied_total")).isGreaterThanOrEqualTo(3);
    }

    @Test
    void a_frozen_trigger_fires_once_in_the_cluster_for_a_device_that_went_quiet_and_for_one_never_heard() throws Exception {
        TestProduct product = node1.createProduct("frozen");
        TestDevice d = node1.createDevice(product, "d", "sn-frozen");
        TestDevice quiet = node1.createDevice(product, "quiet", "sn-quiet");
        connectToNode2(product, d);
        Thread.sleep(2_500); // a heartbeat each way: each node knows the other is alive
        long id = createTrigger(node1, product, Map.of("title", "silent", "ds_id", "temp", "type", "frozen", "threshold", 3,
                "url", receiver.url(HOOK)));
        await().atMost(5, SECONDS).until(() -> !triggerOn(node2, product, id).isMissingNode());
        publish("{\"temp\":7}"); // stored on node 2: its silence is node 2's to report, not node 1's

        await().atMost(15, SECONDS).until(() -> firedFor(id, d.id()) >= 1 && firedFor(id, quiet.id()) >= 1);
        Thread.sleep(2_000); // another node firing as well would have done so by now
        assertThat(firedFor(id, d.id())).as("fired for the device that went quiet").isEqualTo(1);
        assertThat(firedFor(id, quiet.id())).as("fired for the device never heard").isEqualTo(1);
    }

    private long firedFor(long triggerId, String deviceId) {
        return HookFixtures.firedData(receiver, HOOK, triggerId).stream()
                .filter(e -> e.path("dev_id").asText().equals(deviceId)).count();
    }

    @Test
    void a_push_target_set_and_removed_on_node_1_gets_the_points_stored_on_node_2_once() {
        TestProduct product = node1.createProduct("push");
        TestDevice d = node1.createDevice(product, "d", "sn-push");
        connectToNode2(product, d);
        Reply put = node1.withKey(product.masterKey(), "PUT", "/products/" + product.id() + "/push",
                Map.of("url", receiver.url("/good/push"), "token", TOKEN, "batch", false));
        assertThat(put.errno()).as(put.body().toString()).isZero();
        await().atMost(5, SECONDS).until(() -> pushOn(node2, product).errno() == 0);

        publish("{\"temp\":21}");
        awaitExactly(this::pushedPoints, 1);
        JsonNode pushed = pushedPoints().get(0);
        assertThat(pushed.path("dev_id").asText()).isEqualTo(d.id());
        assertThat(pushed.path("value").asInt()).isEqualTo(21);

        Reply removed = node1.withKey(product.masterKey(), "DELETE", "/products/" + product.id() + "/push", null);
        assertThat(removed.errno()).as(removed.body().toString()).isZero();
        await().atMost(5, SECONDS).until(() -> pushOn(node2, product).errno() != 0);
        publish("{\"temp\":22}");
        awaitExactly(this::pushedPoints, 1);
    }

    @Test
    void a_trigger_whose_announcement_was_lost_is_known_after_the_comparison_with_the_store() {
        TestProduct product = node1.createProduct("lost");
        node1.platform().hooks().triggers().announceTo(id -> { }); // as if NATS had lost it
        long id = createTrigger(node1, product, Map.of("title", "hot", "ds_id", "temp", "type", ">", "threshold", 50,
                "url", receiver.url(HOOK)));
        await().during(300, MILLISECONDS).atMost(2, SECONDS).until(() -> triggerOn(node2, product, id).isMissingNode());

        node2.platform().hooks().triggers().reload(); // what RegistrySync.resyncAll runs when NATS comes back

        assertThat(triggerOn(node2, product, id).path("threshold").asDouble()).isEqualTo(50);
    }

    private Map<String, String> settings(String store, String name) {
        Map<String, String> settings = new HashMap<>(HookFixtures.FAST);
        settings.putAll(Map.of("store.url", store, "cluster.nats-url", nats.url(), "cluster.node-name", name));
        return settings;
    }

    private void connectToNode2(TestProduct product, TestDevice d) {
        await().atMost(5, SECONDS).until(() -> node2.platform().registry().device(Long.parseLong(d.id())).isPresent());
        device = Mqtt3Client.builder().identifier(d.id()).serverHost("127.0.0.1").serverPort(node2.mqttPort())
                .simpleAuth().username(product.id()).password(d.authInfo().getBytes(UTF_8)).applySimpleAuth().buildBlocking();
        device.connectWith().cleanSession(true).send();
    }

    /** A {@code $dp} of type 3 ({@code {"stream": value}}) at QoS 1: stored on node 2 when acknowledged. */
    private void publish(String json) {
        byte[] text = json.getBytes(UTF_8);
        byte[] dp = new byte[3 + text.length];
        dp[0] = 3;
        dp[1] = (byte) (text.length >> 8);
        dp[2] = (byte) text.length;
        System.arraycopy(text, 0, dp, 3, text.length);
        device.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE).payload(dp).send();
    }

    /** The trigger as node's API shows it, or a missing node when it knows none of that id. */
    private static JsonNode triggerOn(TestPlatform node, TestProduct product, long id) {
        Reply r = node.withKey(product.masterKey(), "GET", "/triggers/" + id, null);
        return r.errno() == 0 ? r.data() : MissingNode.getInstance();
    }

    private static Reply pushOn(TestPlatform node, TestProduct product) {
        return node.withKey(product.masterKey(), "GET", "/products/" + product.id() + "/push", null);
    }

    /** The data point messages (type 1) pushed so far. */
    private List<JsonNode> pushedPoints() {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode post : receiver.posts("/good/push")) {
            JsonNode msg = post.path("msg");
            for (JsonNode m : msg.isArray() ? msg : List.of(msg)) {
                if (m.path("type").asInt() == 1) {
                    out.add(m);
                }
            }
        }
        return out;
    }

    /** Waits until {@code actual} has {@code expected}'s size, then checks that nothing more arrives for a while. */
    private static <T> void awaitExactly(Supplier<List<T>> actual, int expected) {
        await().atMost(5, SECONDS).until(() -> actual.get().size() >= expected);
        await().during(700, MILLISECONDS).atMost(3, SECONDS).until(() -> actual.get().size() == expected);
    }
}
