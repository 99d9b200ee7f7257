package io.stratus.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A credential that stops working ends the MQTT connections that logged in with it, and only those: a device-level
 * key deleted or unlinked, the master key rotated, {@code auth_info} changed, the device disabled or deleted, the
 * product deleted. Wills: published for a revoked login or a disabled device [MQTT-3.1.2-8], never for a deleted
 * device or product (docs/api-decisions.md).
 */
class RevocationTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    @RegisterExtension
    final LogCapture log = LogCapture.mqttConnection();

    @Test
    void deleting_a_device_level_key_closes_the_connections_that_logged_in_with_it() throws Exception {
        TestProduct p = platform.createProduct("revoke-key");
        TestDevice d1 = Clients.device(platform, p, "key-user");
        TestDevice d2 = Clients.device(platform, p, "key-named-but-auth-info");
        TestDevice d3 = Clients.device(platform, p, "master-key-user");
        String key = createKey(p, d1, d2);
        try (PahoClient withKey = login(d1, key);
             RawMqtt named = raw(d2, d2.authInfo());
             RawMqtt master = raw(d3, p.masterKey())) {

            assertThat(master(p, "DELETE", "/keys/" + key, null).errno()).isZero();

            assertClosed(withKey);
            log.await("[" + d1.id() + "]", "closed: login of device " + d1.id() + " revoked: a device-level key was deleted");
            assertStillUp(named, master);
            assertThat(log.lines(key)).as("the key in a log line").isEmpty();
        }
        try (RawMqtt again = new RawMqtt(platform.mqttPort())) {
            assertThat(again.connect(d1.id(), p.id(), key, 30, true)).as("CONNACK with the deleted key").isEqualTo(4);
        }
    }

    @Test
    void a_key_that_no_longer_names_a_device_closes_that_devices_connection_only() throws Exception {
        TestProduct p = platform.createProduct("revoke-unlink");
        TestDevice d1 = Clients.device(platform, p, "unlinked");
        TestDevice d2 = Clients.device(platform, p, "still-linked");
        String key = createKey(p, d1, d2);
        try (PahoClient unlinked = login(d1, key); RawMqtt linked = raw(d2, key)) {

            Reply r = master(p, "PUT", "/keys/" + key + "/devices", Map.of("del_dev_ids", List.of(d1.id())));
            assertThat(r.errno()).as(r.toString()).isZero();

            assertClosed(unlinked);
            log.await("[" + d1.id() + "]", "revoked: a device-level key no longer grants its login");
            assertStillUp(linked);
        }
    }

    @Test
    void a_key_narrowed_to_reading_closes_the_connection_that_logged_in_with_it() throws Exception {
        TestProduct p = platform.createProduct("revoke-narrowed");
        TestDevice d1 = Clients.device(platform, p, "narrowed");
        String key = createKey(p, d1);
        try (PahoClient client = login(d1, key)) {
            Reply r = master(p, "PUT", "/keys/" + key, Map.of("permissions",
                    List.of(Map.of("access_methods", List.of("get"), "resources", List.of(Map.of("dev_id", d1.id()))))));
            assertThat(r.errno()).as(r.toString()).isZero();

            assertClosed(client);
            log.await("[" + d1.id() + "]", "revoked: a device-level key no longer grants its login");
        }
    }

    @Test
    void rotating_the_master_key_closes_the_connections_that_logged_in_with_it() throws Exception {
        TestProduct p = platform.createProduct("revoke-master");
        TestProduct other = platform.createProduct("revoke-master-other");
        TestDevice d1 = Clients.device(platform, p, "master-user");
        TestDevice d2 = Clients.device(platform, p, "auth-info-user");
        TestDevice d3 = Clients.device(platform, other, "other-product-master-user");
        try (PahoClient withMaster = login(d1, p.masterKey());
             RawMqtt withAuthInfo = raw(d2, d2.authInfo());
             RawMqtt otherProduct = raw(d3, other.masterKey())) {

            Reply r = platform.asAdmin("POST", "/products/" + p.id() + "/master_key", null);
            assertThat(r.errno()).as(r.toString()).isZero();

            assertClosed(withMaster);
            log.await("[" + d1.id() + "]", "revoked: the product's master key was rotated");
            assertStillUp(withAuthInfo, otherProduct);
            assertThat(log.lines(p.masterKey())).isEmpty();
        }
    }

    @Test
    void changing_auth_info_closes_only_a_connection_that_logged_in_with_the_old_one() throws Exception {
        TestProduct p = platform.createProduct("revoke-auth-info");
        TestDevice d1 = Clients.device(platform, p, "auth-info-changed");
        TestDevice d2 = Clients.device(platform, p, "master-user-auth-info-changed");
        TestDevice d3 = Clients.device(platform, p, "title-changed");
        try (PahoClient withOld = login(d1, d1.authInfo());
             RawMqtt withMaster = raw(d2, p.masterKey());
             RawMqtt renamed = raw(d3, d3.authInfo())) {

            assertThat(master(p, "PUT", "/devices/" + d1.id(), Map.of("auth_info", "new-" + d1.authInfo())).errno()).isZero();
            assertThat(master(p, "PUT", "/devices/" + d2.id(), Map.of("auth_info", "new-" + d2.authInfo())).errno()).isZero();
            assertThat(master(p, "PUT", "/devices/" + d3.id(), Map.of("title", "renamed")).errno()).isZero();

            assertClosed(withOld);
            log.await("[" + d1.id() + "]", "revoked: its auth_info changed");
            assertStillUp(withMaster, renamed);
            assertThat(log.lines(d1.authInfo())).as("the old auth_info in a log line").isEmpty();
        }
        try (RawMqtt again = new RawMqtt(platform.mqttPort())) {
            assertThat(again.connect(d1.id(), p.id(), "new-" + d1.authInfo(), 30, true)).as("CONNACK with the new auth_info").isZero();
        }
    }

    @Test
    void disabling_a_device_closes_its_connection_and_publishes_its_will_MQTT_3_1_2_8() throws Exception {
        TestProduct p = platform.createProduct("revoke-disable");
        TestDevice disabled = Clients.device(platform, p, "disabled");
        TestDevice other = Clients.device(platform, p, "other");
        try (PahoClient sub = PahoClient.connected(platform, Clients.device(platform, p, "will-sub"), true);
             PahoClient dying = loginWithWill(disabled, "will/disabled", "disabled-will");
             RawMqtt up = raw(other, other.authInfo())) {
            sub.subscribe("will/disabled", 1);

            assertThat(master(p, "PUT", "/devices/" + disabled.id(), Map.of("disabled", true)).errno()).isZero();

            assertClosed(dying);
            log.await("[" + disabled.id() + "]", "closed: device " + disabled.id() + " was disabled");
            assertThat(sub.next().text()).isEqualTo("disabled-will");
            assertStillUp(up);
        }
    }

    @Test
    void deleting_a_device_closes_its_connection_without_its_will() throws Exception {
        TestProduct p = platform.createProduct("revoke-delete-device");
        TestDevice deleted = Clients.device(platform, p, "deleted");
        TestDevice other = Clients.device(platform, p, "other");
        try (PahoClient sub = PahoClient.connected(platform, Clients.device(platform, p, "will-sub"), true);
             PahoClient dying = loginWithWill(deleted, "will/deleted", "deleted-will");
             RawMqtt up = raw(other, other.authInfo())) {
            sub.subscribe("will/deleted", 1);

            assertThat(master(p, "DELETE", "/devices/" + deleted.id(), null).errno()).isZero();

            assertClosed(dying);
            log.await("[" + deleted.id() + "]", "closed: device " + deleted.id() + " was deleted");
            assertStillUp(up);
            up.send(RawMqtt.publishPacket("will/deleted", 0, 0, "after".getBytes(UTF_8)));
            assertThat(sub.next().text()).as("no will before this message").isEqualTo("after");
        }
    }

    @Test
    void deleting_a_product_closes_all_its_connections_without_wills_and_no_other() throws Exception {
        TestProduct doomed = platform.createProduct("revoke-delete-product");
        TestProduct kept = platform.createProduct("revoke-delete-product-kept");
        TestDevice x = Clients.device(platform, doomed, "x");
        TestDevice y = Clients.device(platform, doomed, "y");
        TestDevice z = Clients.device(platform, kept, "z");
        try (PahoClient withWill = loginWithWill(x, "will/product", "product-will", true);
             RawMqtt withMaster = raw(y, doomed.masterKey());
             RawMqtt otherProduct = raw(z, z.authInfo())) {

            assertThat(platform.asAdmin("DELETE", "/products/" + doomed.id(), null).errno()).isZero();

            assertClosed(withWill);
            assertThat(withMaster.closedWithin(5000)).isTrue();
            log.await("[" + x.id() + "]", "was deleted");
            log.await("[" + y.id() + "]", "was deleted");
            assertStillUp(otherProduct);
        }
        assertThat(count("SELECT COUNT(*) FROM retained_message WHERE product_id = ?", doomed.id()))
                .as("a retained will of the deleted product").isZero();
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static Reply master(TestProduct p, String method, String path, Object body) {
        return platform.withKey(p.masterKey(), method, path, body);
    }

    /** A device-level key of {@code p} naming each device (all methods). */
    private static String createKey(TestProduct p, TestDevice... devices) {
        List<Map<String, String>> resources = java.util.Arrays.stream(devices).map(d -> Map.of("dev_id", d.id())).toList();
        Reply r = master(p, "POST", "/keys", Map.of("title", "revocable", "permissions", List.of(Map.of("resources", resources))));
        assertThat(r.errno()).as(r.toString()).isZero();
        return r.data().path("key").asText();
    }

    /** A Paho client of {@code device} logged in with {@code password} (clean session). */
    private static PahoClient login(TestDevice device, String password) throws MqttException {
        PahoClient c = new PahoClient(platform, device.id());
        c.connect(Clients.pahoOptions(device.productId(), password, true));
        return c;
    }

    private static PahoClient loginWithWill(TestDevice device, String topic, String will) throws MqttException {
        return loginWithWill(device, topic, will, false);
    }

    private static PahoClient loginWithWill(TestDevice device, String topic, String will, boolean retain) throws MqttException {
        PahoClient c = new PahoClient(platform, device.id());
        MqttConnectOptions options = Clients.pahoOptions(device, true);
        options.setWill(topic, will.getBytes(UTF_8), 1, retain);
        c.connect(options);
        return c;
    }

    /** A raw client of {@code device} logged in with {@code password}; fails unless accepted. */
    private static RawMqtt raw(TestDevice device, String password) throws IOException {
        RawMqtt raw = new RawMqtt(platform.mqttPort());
        assertThat(raw.connect(device.id(), device.productId(), password, 30, true)).as("CONNACK").isZero();
        return raw;
    }

    private static void assertClosed(PahoClient client) {
        await().atMost(5, SECONDS).until(() -> client.lost().isDone());
        assertThat(client.client().isConnected()).isFalse();
    }

    /** Each connection still answers a PINGREQ, after the revoked one was closed. */
    private static void assertStillUp(RawMqtt... connections) throws IOException {
        for (RawMqtt c : connections) {
            Clients.ping(c);
        }
    }

    /** Through the server's own store, whichever database it runs on. */
    private static long count(String sql, String productId) {
        return platform.platform().database().withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, Long.parseLong(productId));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }
}
