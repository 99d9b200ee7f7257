package io.stratus.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stratus.Config;
import io.stratus.device.Device;
import io.stratus.device.DeviceChange;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.Login;
import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import io.stratus.store.TestStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the broker decides for a logged-in connection ({@link Client}): where a PUBLISH goes (a system topic's handler,
 * the product's subscribers, nowhere for another device's forward topic), when the device counts as online, and when
 * its will is published. A real {@link Broker} and {@link DeviceRegistry} on a temporary SQLite store; connections are
 * {@link ListOutbox}es.
 */
class ClientTest {
    @TempDir
    Path dir;
    private Database db;
    private BatchWriter writer;
    private DeviceRegistry registry;
    private Broker broker;
    private long product;
    private Device sensor;
    private Device other;
    private final List<String> handled = new ArrayList<>();

    @BeforeEach
    void start() {
        db = TestStore.open(dir);
        writer = new BatchWriter(db, "state", 1_000, 100);
        registry = new DeviceRegistry(db, writer, false);
        broker = new Broker(Config.of(Map.of()), db, writer, registry);
        registry.addListener(broker.deviceEvents());
        broker.registerSystemTopic("$dp", (publisher, topic, payload, qos) -> {
            handled.add(topic + " from " + publisher.deviceId() + " at qos " + qos);
            return CompletableFuture.completedFuture(null);
        });
        broker.registerSystemPrefix("$crsp/", (publisher, topic, payload, qos) -> {
            handled.add(topic + " from " + publisher.deviceId());
            return CompletableFuture.completedFuture(null);
        });
        product = registry.createProduct("meters", "", "MQTT").id();
        sensor = registry.createDevice(product, new DeviceChange("sensor", null, "sn-sensor", null, null, null, null, null, null));
        other = registry.createDevice(product, new DeviceChange("other", null, "sn-other", null, null, null, null, null, null));
    }

    @AfterEach
    void stop() {
        broker.close();
        writer.close();
        db.close();
    }

    @Test
    void a_system_topic_goes_to_its_handler_with_the_publisher() {
        Client c = login(sensor, "sn-sensor", null);

        assertThat(c.publish("$dp", bytes("{}"), 1, false)).isCompleted();
        assertThat(c.publish("$crsp/3f2a", bytes("ok"), 0, false)).isCompleted();

        assertThat(handled).containsExactly("$dp from " + sensor.id() + " at qos 1", "$crsp/3f2a from " + sensor.id());
    }

    @Test
    void a_dollar_topic_without_a_handler_is_refused_and_reaches_nobody_D9() {
        Client listener = login(other, "sn-other", null);
        ListOutbox inbox = attach(listener);
        listener.subscribe(List.of(new Broker.SubscriptionRequest("#", 1)));
        Client c = login(sensor, "sn-sensor", null);

        for (String topic : List.of("$sys/x", "$crsp/", "$dpx", "$creq/1")) {
            assertThatThrownBy(() -> c.publish(topic, bytes("x"), 1, false)).as(topic)
                    .isInstanceOf(PublishRefused.class).hasMessage("publishing to system topic " + topic + " is not allowed");
        }
        assertThat(handled).isEmpty();
        assertThat(inbox.published()).isEmpty();
    }

    @Test
    void another_devices_forward_topic_is_acknowledged_and_dropped_but_a_devices_own_is_routed_D4() {
        Client follower = login(registry.createDevice(product,
                new DeviceChange("follower", null, "sn-f", null, null, null, null, null, null)), "sn-f", null);
        ListOutbox inbox = attach(follower);
        follower.subscribe(List.of(new Broker.SubscriptionRequest("/" + sensor.id() + "/#", 1)));
        Client forger = login(other, "sn-other", null);
        Client real = login(sensor, "sn-sensor", null);

        CompletableFuture<Void> forged = forger.publish("/" + sensor.id() + "/temp", bytes("99"), 1, false);
        CompletableFuture<Void> own = real.publish("/" + sensor.id() + "/note", bytes("hello"), 1, false);

        assertThat(forged).as("acknowledged: 3.1.1 cannot refuse a PUBLISH").isCompleted();
        assertThat(own).isCompleted();
        assertThat(inbox.topics()).containsExactly("/" + sensor.id() + "/note");
        assertThat(broker.stats().publishDeniedCount()).isEqualTo(1);
    }

    @Test
    void attach_marks_the_device_online_and_the_end_of_the_connection_publishes_the_will_and_marks_it_offline() {
        ListOutbox watched = watchStatus();
        Client c = login(sensor, "sn-sensor", new Message("status/sensor", bytes("gone"), 0, false));
        ListOutbox outbox = new ListOutbox();

        assertThat(c.attach(outbox, registry.credentialChanges())).isTrue();
        assertThat(registry.isOnline(sensor.id())).isTrue();

        c.ended(outbox, false);
        assertThat(watched.topics()).containsExactly("status/sensor");
        assertThat(registry.isOnline(sensor.id())).isFalse();
    }

    @Test
    void a_discarded_will_or_a_stopping_server_publishes_no_will() {
        ListOutbox watched = watchStatus();

        Client disconnected = login(sensor, "sn-sensor", new Message("status/a", bytes("gone"), 0, false));
        ListOutbox first = attach(disconnected);
        disconnected.discardWill(); // a clean DISCONNECT [MQTT-3.14.4-3]
        disconnected.ended(first, false);

        Client stopping = login(sensor, "sn-sensor", new Message("status/b", bytes("gone"), 0, false));
        ListOutbox second = attach(stopping);
        stopping.ended(second, true);

        assertThat(watched.topics()).isEmpty();
        assertThat(registry.isOnline(sensor.id())).isFalse();
    }

    @Test
    void a_login_revoked_between_its_check_and_attach_is_refused_without_its_will_or_presence() {
        ListOutbox watched = watchStatus();
        long changesAtCheck = registry.credentialChanges();
        Client c = login(sensor, "sn-sensor", new Message("status/sensor", bytes("gone"), 0, false));
        registry.updateDevice(sensor.id(), new DeviceChange(null, null, "sn-new", null, null, null, null, null, null));
        ListOutbox outbox = new ListOutbox();

        assertThat(c.attach(outbox, changesAtCheck)).as("revoked meanwhile").isFalse();
        assertThat(registry.isOnline(sensor.id())).isFalse();
        c.ended(outbox, false);
        assertThat(watched.topics()).as("refused logins have no will").isEmpty();
    }

    @Test
    void a_credential_change_that_leaves_the_login_valid_does_not_refuse_it() {
        long changesAtCheck = registry.credentialChanges();
        Client c = login(sensor, "sn-sensor", null);
        registry.updateDevice(other.id(), new DeviceChange(null, null, "sn-other-2", null, null, null, null, null, null));

        assertThat(c.attach(new ListOutbox(), changesAtCheck)).isTrue();
        assertThat(registry.isOnline(sensor.id())).isTrue();
    }

    // ---- helpers ------------------------------------------------------------------------------------

    /** A device logged in with its auth_info, as an accepted CONNECT would be. */
    private Client login(Device device, String authInfo, Message will) {
        Login login = registry.authenticate(String.valueOf(device.id()), String.valueOf(product), authInfo);
        assertThat(login.productId()).isEqualTo(product);
        return broker.login(product, device.id(), String.valueOf(device.id()), true, will, login.credential(), "test");
    }

    /** Another device of the product, subscribed to {@code status/#}: where wills are published. */
    private ListOutbox watchStatus() {
        Client watcher = login(other, "sn-other", null);
        ListOutbox watched = attach(watcher);
        watcher.subscribe(List.of(new Broker.SubscriptionRequest("status/#", 0)));
        return watched;
    }

    private ListOutbox attach(Client c) {
        ListOutbox outbox = new ListOutbox();
        assertThat(c.attach(outbox, registry.credentialChanges())).isTrue();
        return outbox;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
