package io.stratus.broker;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import io.stratus.Config;
import io.stratus.device.Device;
import io.stratus.device.DeviceChange;
import io.stratus.device.DeviceRegistry;
import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import io.stratus.store.TestStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The broker's decisions, behind the MQTT edge: what a SUBSCRIBE is granted, where a PUBLISH goes and at which QoS,
 * retained messages, clean and persistent sessions, takeover, and which closes carry the will. A real {@link Broker}
 * on a temporary SQLite store; each connection is a {@link ListOutbox}.
 */
class BrokerTest {
    private static final int MAX_SUBSCRIPTIONS = 3;

    @TempDir
    Path dir;
    private Database db;
    private BatchWriter writer;
    private DeviceRegistry registry;
    private Broker broker;
    private long product;
    private long otherProduct;

    /** One client: its session, its connection, and CONNACK's session-present flag. */
    private record Attached(Session session, ListOutbox outbox, boolean sessionPresent) {}

    @BeforeEach
    void start() {
        db = TestStore.open(dir);
        writer = new BatchWriter(db, "state", 1_000, 100);
        registry = new DeviceRegistry(db, writer, false);
        product = registry.createProduct("lamps", "", "MQTT").id();
        otherProduct = registry.createProduct("meters", "", "MQTT").id();
        broker = newBroker(Config.of(Map.of("mqtt.max-subscriptions", String.valueOf(MAX_SUBSCRIPTIONS))));
    }

    @AfterEach
    void stop() {
        broker.close();
        writer.close();
        db.close();
    }

    // ---- SUBSCRIBE ----------------------------------------------------------------------------------

    @Test
    void subscribe_grants_the_requested_qos_of_each_filter_MQTT_3_9_3_1() {
        Attached c = connect(product, "c1", true);

        List<Integer> codes = broker.subscribe(c.session(), List.of(
                new Broker.SubscriptionRequest("a/0", 0),
                new Broker.SubscriptionRequest("a/1", 1),
                new Broker.SubscriptionRequest("a/+", 2)));

        assertThat(codes).containsExactly(0, 1, 2);
        assertThat(c.session().subscriptions()).containsOnly(entry("a/0", 0), entry("a/1", 1), entry("a/+", 2));
    }

    @ParameterizedTest
    @ValueSource(strings = {"$dp", "$SYS/#", "$creq/+", "$crsp/x", "$"})
    void subscribe_refuses_system_topic_filters_D9(String filter) {
        Attached c = connect(product, "c1", true);

        List<Integer> codes = broker.subscribe(c.session(), List.of(
                new Broker.SubscriptionRequest(filter, 1), new Broker.SubscriptionRequest("ok", 1)));

        assertThat(codes).containsExactly(Broker.SUBACK_FAILURE, 1);
        assertThat(c.session().subscriptions()).containsOnlyKeys("ok");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a/#/b", "a#", "a+/b", "+a", ""})
    void subscribe_refuses_malformed_filters_MQTT_4_7_1_2_and_3(String filter) {
        Attached c = connect(product, "c1", true);

        assertThat(broker.subscribe(c.session(), List.of(new Broker.SubscriptionRequest(filter, 0))))
                .containsExactly(Broker.SUBACK_FAILURE);
        assertThat(c.session().subscriptions()).isEmpty();
    }

    @Test
    void subscribe_refuses_filters_over_max_subscriptions_but_not_a_resubscription_D8() {
        Attached c = connect(product, "c1", true);
        for (int i = 0; i < MAX_SUBSCRIPTIONS; i++) {
            subscribe(c, "t/" + i, 0);
        }

        List<Integer> codes = broker.subscribe(c.session(), List.of(
                new Broker.SubscriptionRequest("t/over", 1), new Broker.SubscriptionRequest("t/0", 2)));

        assertThat(codes).containsExactly(Broker.SUBACK_FAILURE, 2);
        assertThat(c.session().subscriptions()).hasSize(MAX_SUBSCRIPTIONS).containsEntry("t/0", 2).doesNotContainKey("t/over");
        broker.publish(product, message("t/over", "x", 0, false));
        assertThat(c.outbox().published()).isEmpty();
    }

    @Test
    void a_resubscription_replaces_the_granted_qos_MQTT_3_8_4_3() {
        Attached c = connect(product, "c1", true);
        subscribe(c, "a", 0);
        subscribe(c, "a", 2);

        broker.publish(product, message("a", "x", 2, false));

        assertThat(c.outbox().published()).singleElement().satisfies(s -> assertThat(s.message().qos()).isEqualTo(2));
    }

    @Test
    void unsubscribe_stops_delivery() {
        Attached c = connect(product, "c1", true);
        subscribe(c, "a/+", 0);

        broker.unsubscribe(c.session(), List.of("a/+", "never/subscribed"));
        broker.publish(product, message("a/b", "x", 0, false));

        assertThat(c.outbox().published()).isEmpty();
        assertThat(c.session().subscriptions()).isEmpty();
        assertThat(broker.hasSubscriptions(product)).isFalse();
    }

    // ---- PUBLISH routing ----------------------------------------------------------------------------

    @Test
    void publish_reaches_matching_sessions_of_its_own_product_only() {
        Attached sameExact = connect(product, "same-exact", true);
        Attached sameWildcard = connect(product, "same-wildcard", true);
        Attached sameOther = connect(product, "same-other", true);
        Attached otherExact = connect(otherProduct, "other-exact", true);
        Attached otherWildcard = connect(otherProduct, "other-wildcard", true);
        subscribe(sameExact, "room/1/temp", 0);
        subscribe(sameWildcard, "#", 0);
        subscribe(sameOther, "room/2/temp", 0);
        subscribe(otherExact, "room/1/temp", 0);
        subscribe(otherWildcard, "#", 0);

        broker.publish(product, message("room/1/temp", "21.5", 0, false));

        assertThat(sameExact.outbox().topics()).containsExactly("room/1/temp");
        assertThat(sameWildcard.outbox().topics()).containsExactly("room/1/temp");
        assertThat(sameOther.outbox().published()).isEmpty();
        assertThat(otherExact.outbox().published()).isEmpty();
        assertThat(otherWildcard.outbox().published()).isEmpty();
    }

    @Test
    void the_same_client_id_in_two_products_is_two_sessions() {
        Attached a = connect(product, "42", true);
        Attached b = connect(otherProduct, "42", true);
        subscribe(a, "t", 0);
        subscribe(b, "t", 0);

        broker.publish(otherProduct, message("t", "x", 0, false));

        assertThat(a.outbox().published()).isEmpty();
        assertThat(a.outbox().closed()).as("no takeover across products").isEmpty();
        assertThat(b.outbox().topics()).containsExactly("t");
        assertThat(broker.sessionCount()).isEqualTo(2);
    }

    @ParameterizedTest(name = "published at {0}, granted {1} -> delivered at {2}")
    @CsvSource(delimiter = '|', textBlock = """
            # published | granted | delivered
            0           | 0       | 0
            0           | 2       | 0
            1           | 0       | 0
            1           | 1       | 1
            1           | 2       | 1
            2           | 0       | 0
            2           | 1       | 1
            2           | 2       | 2
            """)
    void publish_is_delivered_at_the_lower_of_published_and_granted_qos_MQTT_3_8_4_6(int published, int granted,
                                                                                   int delivered) {
        Attached c = connect(product, "c1", true);
        subscribe(c, "q", granted);

        broker.publish(product, message("q", "x", published, false));

        assertThat(c.outbox().published()).singleElement().satisfies(s -> {
            assertThat(s.message().qos()).isEqualTo(delivered);
            // [MQTT-2.3.1-5] a QoS 0 PUBLISH has no packet identifier; QoS 1 and 2 have a non-zero one [MQTT-2.3.1-1]
            assertThat(s.packetId() == 0).isEqualTo(delivered == 0);
            assertThat(s.dup()).isFalse();
        });
    }

    @Test
    void overlapping_filters_deliver_once_at_the_highest_granted_qos_MQTT_3_3_5_1() {
        Attached c = connect(product, "c1", true);
        subscribe(c, "a/+", 0);
        subscribe(c, "a/#", 2);
        subscribe(c, "a/b", 1);

        broker.publish(product, message("a/b", "x", 2, false));

        assertThat(c.outbox().published()).singleElement().satisfies(s -> assertThat(s.message().qos()).isEqualTo(2));
    }

    @ParameterizedTest(name = "{0} vs {1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            # filter   | topic        | delivered
            a/+        | a/b          | true
            a/+        | a/b/c        | false
            +/b        | a/b          | true
            a/#        | a            | true
            a/#        | a/b/c        | true
            '#'        | a/b          | true
            '#'        | /a           | true
            '#'        | $dp          | false
            '#'        | $SYS/uptime  | false
            +/uptime   | $SYS/uptime  | false
            +          | $dp          | false
            """)
    void wildcards_match_levels_and_never_a_topic_starting_with_dollar_MQTT_4_7_2_1(String filter, String topic,
                                                                                    boolean delivered) {
        Attached c = connect(product, "c1", true);
        subscribe(c, filter, 0);

        broker.publish(product, message(topic, "x", 0, false));

        assertThat(c.outbox().topics()).isEqualTo(delivered ? List.of(topic) : List.of());
    }

    @ParameterizedTest
    @ValueSource(strings = {"a/+", "a/#", ""})
    void publish_to_an_invalid_topic_name_is_routed_nowhere_MQTT_3_3_2_2(String topic) {
        Attached c = connect(product, "c1", true);
        subscribe(c, "#", 0);

        broker.publish(product, message(topic, "x", 1, true)).join();

        assertThat(c.outbox().published()).isEmpty();
        assertThat(broker.retainedCount()).isZero();
    }

    @Test
    void a_message_sent_for_a_live_subscription_has_retain_0_MQTT_3_3_1_9() {
        Attached c = connect(product, "c1", true);
        subscribe(c, "r", 1);

        broker.publish(product, message("r", "on", 1, true)).join();

        assertThat(c.outbox().published()).singleElement().satisfies(s -> assertThat(s.message().retain()).isFalse());
    }

    @Test
    void qos_0_is_dropped_while_the_connection_is_not_writable() {
        Attached c = connect(product, "c1", true);
        subscribe(c, "q", 1);
        c.outbox().writable(false);

        broker.publish(product, message("q", "qos0", 0, false));
        broker.publish(product, message("q", "qos1", 1, false));

        assertThat(c.outbox().published()).extracting(s -> text(s.message())).containsExactly("qos1");
        assertThat(c.session().dropped()).isEqualTo(1);
    }

    // ---- retained messages --------------------------------------------------------------------------

    @Test
    void a_retained_message_is_delivered_on_subscribe_with_retain_1_MQTT_3_3_1_6_and_3_3_1_8() {
        broker.publish(product, message("lamp/1/state", "on", 1, true)).join();
        Attached c = connect(product, "late", true);

        subscribeAndGetRetained(c, "lamp/+/state", 1);

        assertThat(c.outbox().published()).singleElement().satisfies(s -> {
            assertThat(s.message().topic()).isEqualTo("lamp/1/state");
            assertThat(text(s.message())).isEqualTo("on");
            assertThat(s.message().retain()).isTrue();
            assertThat(s.message().qos()).isEqualTo(1);
        });
    }

    @Test
    void a_retained_message_is_delivered_at_most_at_the_granted_qos() {
        broker.publish(product, message("r", "x", 2, true)).join();
        Attached c = connect(product, "late", true);

        subscribeAndGetRetained(c, "r", 0);

        assertThat(c.outbox().published()).singleElement().satisfies(s -> assertThat(s.message().qos()).isZero());
    }

    @Test
    void a_new_retained_message_replaces_the_topics_previous_one_MQTT_3_3_1_5() {
        broker.publish(product, message("r", "old", 1, true)).join();
        broker.publish(product, message("r", "new", 1, true)).join();
        Attached c = connect(product, "late", true);

        subscribeAndGetRetained(c, "r", 1);

        assertThat(c.outbox().published()).extracting(s -> text(s.message())).containsExactly("new");
        assertThat(broker.retainedCount()).isEqualTo(1);
    }

    @Test
    void a_zero_byte_retained_message_clears_the_topic_MQTT_3_3_1_10() {
        broker.publish(product, message("r", "on", 1, true)).join();
        broker.publish(product, message("r", "", 1, true)).join();
        Attached c = connect(product, "late", true);

        subscribeAndGetRetained(c, "#", 1);

        assertThat(c.outbox().published()).isEmpty();
        assertThat(broker.retainedCount()).isZero();
    }

    @Test
    void a_retained_message_of_another_product_is_not_delivered() {
        broker.publish(otherProduct, message("r", "theirs", 1, true)).join();
        Attached c = connect(product, "late", true);

        subscribeAndGetRetained(c, "#", 1);

        assertThat(c.outbox().published()).isEmpty();
    }

    @Test
    void a_retained_message_too_large_for_the_heap_is_read_from_the_store_and_delivered() {
        byte[] big = new byte[RetainedMessages.INLINE_BYTES * 4];
        Arrays.fill(big, (byte) 'b');
        broker.publish(product, new Message("big", big, 1, true)).join();
        Attached c = connect(product, "late", true);

        subscribeAndGetRetained(c, "big", 1);

        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(c.outbox().published()).singleElement()
                .satisfies(s -> {
                    assertThat(s.message().payload()).isEqualTo(big);
                    assertThat(s.message().retain()).isTrue();
                }));
    }

    @Test
    void a_retained_message_survives_a_restart_of_the_broker() {
        broker.publish(product, message("r", "kept", 1, true)).join();
        broker.close();
        broker = newBroker(Config.of(Map.of()));
        Attached c = connect(product, "late", true);

        subscribeAndGetRetained(c, "r", 1);

        assertThat(c.outbox().published()).extracting(s -> text(s.message())).containsExactly("kept");
    }

    // ---- clean and persistent sessions ------------------------------------------------------------

    @Test
    void a_clean_session_ends_with_its_connection_MQTT_3_1_2_6() {
        Attached first = connect(product, "c1", true);
        subscribe(first, "t", 1);
        broker.disconnect(first.session(), first.outbox());

        assertThat(broker.sessionCount()).isZero();
        broker.publish(product, message("t", "while away", 1, false)).join();
        Attached again = connect(product, "c1", true);

        assertThat(again.sessionPresent()).isFalse();
        assertThat(again.session().subscriptions()).isEmpty();
        assertThat(again.outbox().published()).isEmpty();
        assertThat(first.outbox().published()).isEmpty();
    }

    @Test
    void a_persistent_session_keeps_its_subscriptions_and_queues_qos_1_and_2_while_offline_MQTT_3_1_2_4_and_3_1_2_5() {
        Attached first = connect(product, "c1", false);
        assertThat(first.sessionPresent()).isFalse();
        subscribe(first, "t", 2);
        broker.disconnect(first.session(), first.outbox());

        broker.publish(product, message("t", "qos0", 0, false)).join();
        broker.publish(product, message("t", "qos1", 1, false)).join();
        broker.publish(product, message("t", "qos2", 2, false)).join();
        assertThat(broker.subscriptionsOf(product, "c1")).containsOnly(entry("t", 2));
        Attached again = connect(product, "c1", false);

        assertThat(again.sessionPresent()).isTrue();
        assertThat(again.session()).isSameAs(first.session());
        // QoS 0 messages may be dropped for an offline client; QoS 1 and 2 must be kept [MQTT-3.1.2-5].
        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(again.outbox().published())
                .extracting(s -> text(s.message()), s -> s.message().qos())
                .containsExactly(tuple("qos1", 1), tuple("qos2", 2)));
        assertThat(first.outbox().published()).isEmpty();
    }

    @Test
    void a_persistent_session_and_what_it_is_owed_survive_a_restart_of_the_broker() {
        Attached first = connect(product, "c1", false);
        subscribe(first, "t", 1);
        broker.disconnect(first.session(), first.outbox());
        broker.publish(product, message("t", "owed", 1, false)).join();
        broker.close();
        broker = newBroker(Config.of(Map.of()));

        Attached again = connect(product, "c1", false);

        assertThat(again.sessionPresent()).isTrue();
        assertThat(again.session().subscriptions()).containsOnly(entry("t", 1));
        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(again.outbox().published())
                .extracting(s -> text(s.message())).containsExactly("owed"));
    }

    @Test
    void an_unacknowledged_message_is_resent_with_dup_at_reconnect_MQTT_4_4_0_1() {
        Attached first = connect(product, "c1", false);
        subscribe(first, "t", 1);
        broker.publish(product, message("t", "once", 1, false)).join();
        int packetId = first.outbox().published().get(0).packetId();
        broker.disconnect(first.session(), first.outbox());

        Attached again = connect(product, "c1", false);

        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(again.outbox().published()).singleElement()
                .satisfies(s -> {
                    assertThat(text(s.message())).isEqualTo("once");
                    assertThat(s.packetId()).isEqualTo(packetId);
                    assertThat(s.dup()).isTrue();
                }));
    }

    @Test
    void an_acknowledged_message_is_not_resent_at_reconnect() {
        Attached first = connect(product, "c1", false);
        subscribe(first, "t", 1);
        broker.publish(product, message("t", "once", 1, false)).join();
        first.session().onPuback(first.outbox().published().get(0).packetId());
        assertThat(first.session().inflightCount()).isZero();
        broker.disconnect(first.session(), first.outbox());
        broker.publish(product, message("t", "twice", 1, false)).join();

        Attached again = connect(product, "c1", false);

        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(again.outbox().published())
                .extracting(s -> text(s.message())).containsExactly("twice"));
    }

    @Test
    void a_clean_connect_discards_a_persistent_session_MQTT_3_1_2_6() {
        Attached first = connect(product, "c1", false);
        subscribe(first, "t", 1);
        broker.disconnect(first.session(), first.outbox());
        broker.publish(product, message("t", "owed", 1, false)).join();

        Attached clean = connect(product, "c1", true);

        assertThat(clean.sessionPresent()).isFalse();
        assertThat(clean.session().subscriptions()).isEmpty();
        assertThat(clean.session().queuedCount()).isZero();
        assertThat(clean.outbox().published()).isEmpty();
        broker.disconnect(clean.session(), clean.outbox());
        Attached persistentAgain = connect(product, "c1", false);
        assertThat(persistentAgain.sessionPresent()).isFalse();
        assertThat(persistentAgain.outbox().published()).isEmpty();
    }

    // ---- takeover ---------------------------------------------------------------------------------

    @Test
    void a_second_connection_with_the_same_client_id_closes_the_first_MQTT_3_1_4_2() {
        Attached first = connect(product, "c1", true);
        subscribe(first, "t", 0);

        Attached second = connect(product, "c1", true);

        assertThat(first.outbox().closed()).singleElement()
                .satisfies(c -> assertThat(c.reason()).contains("taken over"));
        assertThat(second.sessionPresent()).isFalse();
        assertThat(second.session().subscriptions()).as("a clean session starts empty").isEmpty();
        subscribe(second, "t", 0);
        broker.publish(product, message("t", "x", 0, false));
        assertThat(first.outbox().published()).isEmpty();
        assertThat(second.outbox().topics()).containsExactly("t");
    }

    @Test
    void the_old_connection_ending_after_a_takeover_leaves_the_new_session_alone() {
        Attached first = connect(product, "c1", true);
        Attached second = connect(product, "c1", true);
        subscribe(second, "t", 0);

        broker.disconnect(first.session(), first.outbox()); // the old channel goes inactive after the takeover

        assertThat(second.session().isOnline()).isTrue();
        broker.publish(product, message("t", "x", 0, false));
        assertThat(second.outbox().topics()).containsExactly("t");
    }

    @Test
    void a_takeover_of_a_persistent_session_resumes_it_with_session_present() {
        Attached first = connect(product, "c1", false);
        subscribe(first, "t", 1);

        Attached second = connect(product, "c1", false);

        assertThat(first.outbox().closed()).hasSize(1);
        assertThat(second.sessionPresent()).isTrue();
        assertThat(second.session().subscriptions()).containsOnly(entry("t", 1));
        broker.publish(product, message("t", "x", 1, false)).join();
        assertThat(second.outbox().topics()).containsExactly("t");
        assertThat(first.outbox().published()).isEmpty();
    }

    // ---- closes the broker asks for, with or without the will -------------------------------------------

    @Test
    void a_disabled_devices_connection_is_closed_with_its_will_MQTT_3_1_2_8() {
        Device device = registry.createDevice(product, new DeviceChange("lamp", null, "sn-1", null, null, null, null, null, null));
        Attached c = connect(product, device.id(), String.valueOf(device.id()), true);

        registry.updateDevice(device.id(), new DeviceChange(null, null, null, null, null, true, null, null, null));

        assertThat(c.outbox().closed()).singleElement().satisfies(closed -> {
            assertThat(closed.publishWill()).isTrue();
            assertThat(closed.reason()).contains("disabled");
        });
    }

    @Test
    void a_deleted_devices_connection_is_closed_without_its_will_and_its_session_goes() {
        Device device = registry.createDevice(product, new DeviceChange("lamp", null, "sn-1", null, null, null, null, null, null));
        Attached c = connect(product, device.id(), String.valueOf(device.id()), false);
        subscribe(c, "t", 1);

        registry.deleteDevice(device.id());

        assertThat(c.outbox().closed()).singleElement().satisfies(closed -> assertThat(closed.publishWill()).isFalse());
        assertThat(broker.sessionCount()).isZero();
        assertThat(broker.subscriptionsOf(product, String.valueOf(device.id()))).isEmpty();
    }

    // ---- messages outside subscriptions ---------------------------------------------------------------

    @Test
    void send_to_device_reaches_its_live_connection_without_a_subscription() {
        Device device = registry.createDevice(product, new DeviceChange("lamp", null, "sn-1", null, null, null, null, null, null));
        Attached c = connect(product, device.id(), String.valueOf(device.id()), true);

        assertThat(broker.sendToDevice(product, device.id(), message("$creq/1", "on", 0, false))).isPresent();
        assertThat(broker.sendToDevice(otherProduct, device.id(), message("$creq/2", "on", 0, false)))
                .as("the device id in another product").isEmpty();

        assertThat(c.outbox().direct()).extracting(Message::topic).containsExactly("$creq/1");
        broker.disconnect(c.session(), c.outbox());
        assertThat(broker.sendToDevice(product, device.id(), message("$creq/3", "on", 0, false))).isEmpty();
    }

    // ---- helpers ------------------------------------------------------------------------------------

    /** A broker wired to the registry as Platform wires it. */
    private Broker newBroker(Config config) {
        Broker b = new Broker(config, db, writer, registry);
        registry.addListener(b.deviceEvents());
        registry.addProductCleanup(b.productCleanup());
        return b;
    }

    private Attached connect(long productId, String clientId, boolean clean) {
        return connect(productId, 0, clientId, clean);
    }

    /** What a connection does once its CONNECT is accepted: bind the session, then attach. */
    private Attached connect(long productId, long deviceId, String clientId, boolean clean) {
        Broker.Connected connected = broker.connect(productId, deviceId, clientId, clean);
        ListOutbox outbox = new ListOutbox();
        connected.session().attach(outbox, connected.ticket());
        return new Attached(connected.session(), outbox, connected.sessionPresent());
    }

    private void subscribe(Attached c, String filter, int qos) {
        assertThat(broker.subscribe(c.session(), List.of(new Broker.SubscriptionRequest(filter, qos))))
                .containsExactly(qos);
    }

    /** SUBSCRIBE as the connection handles it: the grant, then the retained messages [MQTT-3.3.1-6]. */
    private void subscribeAndGetRetained(Attached c, String filter, int qos) {
        subscribe(c, filter, qos);
        broker.deliverRetained(c.session(), filter, qos);
    }

    private static Message message(String topic, String payload, int qos, boolean retain) {
        return new Message(topic, payload.getBytes(StandardCharsets.UTF_8), qos, retain);
    }

    private static String text(Message m) {
        return new String(m.payload(), StandardCharsets.UTF_8);
    }
}
