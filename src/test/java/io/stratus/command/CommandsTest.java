package io.stratus.command;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.stratus.Config;
import io.stratus.broker.Broker;
import io.stratus.broker.ListOutbox;
import io.stratus.broker.Message;
import io.stratus.broker.Publisher;
import io.stratus.broker.Session;
import io.stratus.device.DeviceChange;
import io.stratus.device.DeviceRegistry;
import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import io.stratus.store.TestStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Commands to devices (OneNET §4) as a spec: a real {@link Commands} over a real {@link Broker} and {@link
 * DeviceRegistry} on a temporary SQLite store. A device's connection is a {@link ListOutbox}: logging in binds a
 * session to it and marks the device online, as the MQTT connection does after CONNACK.
 */
class CommandsTest {
    private static final int MAX_OPEN = 100;
    private static final int MAX_OPEN_PER_PRODUCT = 3;
    private static final int STORED = 60; // a timeout in seconds that no test outlives

    @TempDir
    Path dir;
    private Database db;
    private BatchWriter writer;
    private BatchWriter commandWriter;
    private DeviceRegistry registry;
    private Broker broker;
    private Commands commands;
    private long product;
    private long device;
    private long otherDevice;

    /** A device's live connection. */
    private record Connection(long deviceId, Session session, ListOutbox outbox, long token) {}

    @BeforeEach
    void start() {
        db = TestStore.open(dir);
        writer = new BatchWriter(db, "state", 1_000, 100);
        registry = new DeviceRegistry(db, writer, false);
        broker = new Broker(Config.of(Map.of()), db, writer, registry);
        commandWriter = new BatchWriter(db, "command", 16_384, 500);
        commands = new Commands(db, commandWriter, broker, registry, MAX_OPEN, MAX_OPEN_PER_PRODUCT);
        broker.registerSystemPrefix(Commands.RESPONSE_PREFIX, commands::onResponse);
        registry.addListener(commands.deviceEvents());
        product = registry.createProduct("lamps", "", "MQTT").id();
        device = createDevice(product, "sn-1");
        otherDevice = createDevice(product, "sn-2");
    }

    @AfterEach
    void stop() {
        commands.close();
        commandWriter.close();
        broker.close();
        writer.close();
        db.close();
    }

    // ---- sending --------------------------------------------------------------------------------------

    @Test
    void an_online_only_command_to_an_offline_device_is_refused_and_nothing_is_stored() {
        assertThatThrownBy(() -> commands.send(product, device, bytes("on"), 0, 0))
                .isInstanceOfSatisfying(CommandException.class,
                        e -> assertThat(e.reason()).isEqualTo(CommandException.Reason.DEVICE_NOT_ONLINE));

        assertThat(commands.openCount()).isZero();
        assertThat(rowCount()).isZero();
        assertThat(commands.history(device, 0, Long.MAX_VALUE, 1, 10).total()).isZero();
    }

    @Test
    void an_online_only_command_to_a_connected_device_is_sent_at_once_on_creq_at_qos_0() {
        Connection c = login(device);

        Command sent = commands.send(product, device, bytes("on"), 0, 0);

        assertThat(c.outbox().direct()).singleElement().satisfies(m -> {
            assertThat(m.topic()).isEqualTo("$creq/" + sent.uuid());
            assertThat(m.payload()).isEqualTo(bytes("on"));
            assertThat(m.qos()).isZero();
            assertThat(m.retain()).isFalse();
        });
        assertThat(c.outbox().published()).as("not through a subscription").isEmpty();
        awaitStatus(sent.uuid(), CommandStatus.SENT);
    }

    @Test
    void a_stored_command_waits_for_the_device_and_is_sent_on_creq_at_qos_0_when_it_logs_in() {
        Command created = commands.send(product, device, bytes("on"), 0, STORED);
        assertThat(created.status()).isEqualTo(CommandStatus.CREATED);
        assertThat(commands.find(created.uuid()).orElseThrow().status()).isEqualTo(CommandStatus.CREATED);
        assertThat(commands.find(created.uuid()).orElseThrow().sentAt()).isZero();

        Connection c = login(device);

        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(c.outbox().direct()).singleElement()
                .satisfies(m -> {
                    assertThat(m.topic()).isEqualTo("$creq/" + created.uuid());
                    assertThat(m.payload()).isEqualTo(bytes("on"));
                    assertThat(m.qos()).isZero();
                }));
        awaitStatus(created.uuid(), CommandStatus.SENT);
        assertThat(commands.find(created.uuid()).orElseThrow().sentAt()).isPositive();
    }

    @Test
    void stored_commands_go_to_their_own_device_only() {
        Connection other = login(otherDevice);
        Command created = commands.send(product, device, bytes("on"), 0, STORED);

        Connection mine = login(device);

        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(mine.outbox().direct()).hasSize(1));
        assertThat(other.outbox().direct()).isEmpty();
        awaitStatus(created.uuid(), CommandStatus.SENT);
    }

    @Test
    void a_qos_0_command_is_sent_once_and_a_qos_1_command_again_at_each_login_until_answered() {
        Command qos0 = commands.send(product, device, bytes("zero"), 0, STORED);
        Command qos1 = commands.send(product, device, bytes("one"), 1, STORED);
        Connection first = login(device);
        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(first.outbox().direct()).hasSize(2));
        awaitStatus(qos0.uuid(), CommandStatus.SENT);
        awaitStatus(qos1.uuid(), CommandStatus.SENT);
        logout(first);

        Connection second = login(device);

        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(second.outbox().direct())
                .extracting(Message::topic).containsExactly("$creq/" + qos1.uuid()));
    }

    // ---- responses ------------------------------------------------------------------------------------

    @Test
    void a_response_completes_after_its_commit_with_status_responded_and_the_exact_bytes() throws Exception {
        Connection c = login(device);
        Command sent = commands.send(product, device, bytes("on"), 0, STORED);
        byte[] response = {0, 1, (byte) 0xff, (byte) 0x80, '{', '}', 0};

        respond(device, sent.uuid(), response).get(5, SECONDS);

        // Completed only after the commit: the row already says so (the PUBACK follows the commit).
        assertThat(storedStatus(sent.uuid())).isEqualTo(CommandStatus.RESPONDED.code);
        assertThat(storedResponse(sent.uuid())).isEqualTo(response);
        Command answered = commands.find(sent.uuid()).orElseThrow();
        assertThat(answered.status()).isEqualTo(CommandStatus.RESPONDED);
        assertThat(answered.response()).isEqualTo(response);
        assertThat(answered.respondedAt()).isPositive();
        assertThat(answered.sentAt()).isPositive();
        assertThat(c.outbox().closed()).isEmpty();
        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(commands.openCount()).isZero());
    }

    @Test
    void a_response_from_another_device_is_acknowledged_and_ignored() throws Exception {
        login(device);
        login(otherDevice);
        Command sent = commands.send(product, device, bytes("on"), 0, STORED);
        awaitStatus(sent.uuid(), CommandStatus.SENT);

        respond(otherDevice, sent.uuid(), bytes("not yours")).get(5, SECONDS);

        assertThat(commands.find(sent.uuid()).orElseThrow().status()).isEqualTo(CommandStatus.SENT);
        assertThat(commands.find(sent.uuid()).orElseThrow().response()).isNull();
        respond(device, sent.uuid(), bytes("mine")).get(5, SECONDS);
        assertThat(commands.find(sent.uuid()).orElseThrow().response()).isEqualTo(bytes("mine"));
    }

    @Test
    void a_response_to_an_unknown_id_is_acknowledged_and_ignored() throws Exception {
        login(device);
        Command sent = commands.send(product, device, bytes("on"), 0, STORED);
        awaitStatus(sent.uuid(), CommandStatus.SENT);

        respond(device, "00000000-0000-0000-0000-000000000000", bytes("who?")).get(5, SECONDS);

        assertThat(commands.find("00000000-0000-0000-0000-000000000000")).isEmpty();
        assertThat(commands.find(sent.uuid()).orElseThrow().status()).isEqualTo(CommandStatus.SENT);
        assertThat(rowCount()).isEqualTo(1);
    }

    @Test
    void a_second_response_does_not_replace_the_first() throws Exception {
        login(device);
        Command sent = commands.send(product, device, bytes("on"), 0, STORED);
        respond(device, sent.uuid(), bytes("first")).get(5, SECONDS);

        respond(device, sent.uuid(), bytes("second")).get(5, SECONDS);

        assertThat(storedResponse(sent.uuid())).isEqualTo(bytes("first"));
        assertThat(commands.find(sent.uuid()).orElseThrow().response()).isEqualTo(bytes("first"));
    }

    @Test
    void a_response_over_64_KiB_is_not_stored_and_ends_the_command_in_status_6() throws Exception {
        login(device);
        Command sent = commands.send(product, device, bytes("on"), 0, STORED);

        respond(device, sent.uuid(), new byte[Commands.MAX_RESPONSE_BYTES + 1]).get(5, SECONDS);

        Command ended = commands.find(sent.uuid()).orElseThrow();
        assertThat(ended.status()).isEqualTo(CommandStatus.RESPONSE_TOO_LARGE);
        assertThat(ended.status().code).isEqualTo(6);
        assertThat(ended.response()).isNull();
        assertThat(storedStatus(sent.uuid())).isEqualTo(6);
        assertThat(storedResponse(sent.uuid())).isNull();
    }

    @Test
    void a_response_of_exactly_64_KiB_is_stored() throws Exception {
        login(device);
        Command sent = commands.send(product, device, bytes("on"), 0, STORED);
        byte[] response = new byte[Commands.MAX_RESPONSE_BYTES];
        Arrays.fill(response, (byte) 7);

        respond(device, sent.uuid(), response).get(5, SECONDS);

        assertThat(storedStatus(sent.uuid())).isEqualTo(CommandStatus.RESPONDED.code);
        assertThat(storedResponse(sent.uuid())).isEqualTo(response);
    }

    // ---- limits and expiry ------------------------------------------------------------------------------

    @Test
    void commands_over_the_products_open_limit_are_refused_with_system_limit_while_other_products_go_on() {
        for (int i = 0; i < MAX_OPEN_PER_PRODUCT; i++) {
            commands.send(product, device, bytes("c" + i), 0, STORED);
        }
        long otherProduct = registry.createProduct("meters", "", "MQTT").id();
        long meter = createDevice(otherProduct, "meter-1");

        assertThatThrownBy(() -> commands.send(product, otherDevice, bytes("over"), 0, STORED))
                .isInstanceOfSatisfying(CommandException.class,
                        e -> assertThat(e.reason()).isEqualTo(CommandException.Reason.SYSTEM_LIMIT));

        assertThat(commands.refusedCount()).isEqualTo(1);
        assertThat(rowCount()).isEqualTo(MAX_OPEN_PER_PRODUCT);
        assertThat(commands.send(otherProduct, meter, bytes("fine"), 0, STORED).status()).isEqualTo(CommandStatus.CREATED);
        assertThat(commands.openCount()).isEqualTo(MAX_OPEN_PER_PRODUCT + 1);
    }

    @Test
    void an_answered_command_frees_its_place_under_the_products_limit() throws Exception {
        login(device);
        Command first = commands.send(product, device, bytes("c0"), 0, STORED);
        for (int i = 1; i < MAX_OPEN_PER_PRODUCT; i++) {
            commands.send(product, device, bytes("c" + i), 0, STORED);
        }

        respond(device, first.uuid(), bytes("done")).get(5, SECONDS);

        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(commands.openCount()).isEqualTo(MAX_OPEN_PER_PRODUCT - 1));
        assertThat(commands.send(product, device, bytes("next"), 0, STORED).status()).isIn(CommandStatus.CREATED,
                CommandStatus.SENT);
    }

    @Test
    void an_unanswered_command_times_out_after_its_timeout_and_is_never_sent() {
        Command created = commands.send(product, device, bytes("on"), 0, 1);

        awaitStatus(created.uuid(), CommandStatus.TIMED_OUT);
        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(storedStatus(created.uuid()))
                .isEqualTo(CommandStatus.TIMED_OUT.code));
        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(commands.openCount()).isZero());

        Command later = commands.send(product, device, bytes("later"), 0, STORED);
        Connection c = login(device);
        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(c.outbox().direct())
                .extracting(Message::topic).containsExactly("$creq/" + later.uuid()));
    }

    @Test
    void a_response_after_the_timeout_is_ignored() throws Exception {
        login(device);
        Command sent = commands.send(product, device, bytes("on"), 0, 1);
        awaitStatus(sent.uuid(), CommandStatus.TIMED_OUT);

        respond(device, sent.uuid(), bytes("too late")).get(5, SECONDS);

        assertThat(commands.find(sent.uuid()).orElseThrow().status()).isEqualTo(CommandStatus.TIMED_OUT);
        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(storedStatus(sent.uuid()))
                .isEqualTo(CommandStatus.TIMED_OUT.code));
        assertThat(storedResponse(sent.uuid())).isNull();
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private long createDevice(long productId, String authInfo) {
        return registry.createDevice(productId, new DeviceChange("device " + authInfo, null, authInfo, null, null, null,
                null, null, null)).id();
    }

    /** What a device's MQTT connection does once CONNECT is accepted: session, attach, then online. */
    private Connection login(long deviceId) {
        long productId = registry.device(deviceId).orElseThrow().productId();
        Broker.Connected connected = broker.connect(productId, deviceId, String.valueOf(deviceId), true);
        ListOutbox outbox = new ListOutbox();
        connected.session().attach(outbox, connected.ticket());
        long token = registry.markOnline(deviceId, 0);
        return new Connection(deviceId, connected.session(), outbox, token);
    }

    private void logout(Connection c) {
        broker.disconnect(c.session(), c.outbox());
        registry.markOffline(c.deviceId(), c.token());
    }

    /** A PUBLISH of the device to {@code $crsp/{uuid}}, handed to the handler the broker routes it to. */
    private CompletableFuture<Void> respond(long deviceId, String uuid, byte[] payload) {
        long productId = registry.device(deviceId).orElseThrow().productId();
        String topic = "$crsp/" + uuid;
        return broker.systemHandler(topic).orElseThrow()
                .handle(new Publisher(productId, deviceId, String.valueOf(deviceId)), topic, payload, 1);
    }

    private void awaitStatus(String uuid, CommandStatus status) {
        await().atMost(5, SECONDS).untilAsserted(() ->
                assertThat(commands.find(uuid).orElseThrow().status()).isEqualTo(status));
    }

    private long rowCount() {
        return db.withConnection(c -> {
            try (ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM command")) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /** The status code in the store, which is what a restart (and every reader after the commit) sees. */
    private int storedStatus(String uuid) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT status FROM command WHERE uuid = ?")) {
                ps.setString(1, uuid);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).as("row of " + uuid).isTrue();
                    return rs.getInt(1);
                }
            }
        });
    }

    private byte[] storedResponse(String uuid) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT resp FROM command WHERE uuid = ?")) {
                ps.setString(1, uuid);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).as("row of " + uuid).isTrue();
                    return rs.getBytes(1);
                }
            }
        });
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
