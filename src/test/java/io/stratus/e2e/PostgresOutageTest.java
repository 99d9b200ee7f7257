package io.stratus.e2e;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import io.stratus.store.PostgresServer;
import io.stratus.store.PostgresTarget;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL stopped (as by a crash) and started again under a running Stratus: a PUBLISH whose commit cannot happen is
 * never acknowledged, new logins get CONNACK 3 and readiness fails while the database is down, one WARN line marks each
 * change of state, and once the database is back Stratus takes logins and points again by itself, with every
 * acknowledged point stored. Runs on a PostgreSQL server of its own, whatever store the rest of the suite uses.
 */
class PostgresOutageTest {
    @TempDir
    Path dir;

    @Test
    void a_database_outage_refuses_what_it_cannot_store_and_recovers_by_itself() throws Exception {
        PostgresServer pg = PostgresServer.startOwn();
        String url = pg.createDatabase();
        try (LogCapture log = LogCapture.of("io.stratus.store.StoreAvailability").attach();
             TestPlatform platform = TestPlatform.start(dir, Map.of("store.url", url))) {
            TestProduct product = platform.createProduct("outage");
            TestDevice device = platform.createDevice(product, "meter", "SN-OUT");
            try (RawMqtt before = new RawMqtt(platform.mqttPort())) {
                assertThat(before.connect(device.id(), product.id(), "SN-OUT", 60, true)).isZero();
                before.send(RawMqtt.publishPacket("$dp", 1, 1, Points.dp(3, "{\"t\":1}")));
                assertThat(before.read().header()).as("PUBACK while the database is up").isEqualTo(0x40);

                pg.stopNow();
                before.send(RawMqtt.publishPacket("$dp", 1, 2, Points.dp(3, "{\"t\":2}")));
                List<RawMqtt.Packet> answers = before.packetsUntilClosed(30_000);
                assertThat(answers).as("no PUBACK for a point that could not be committed")
                        .noneMatch(p -> p.header() == 0x40);
            }
            await().atMost(30, SECONDS).until(() -> connect(platform, device, product) == 3);
            assertThat(platform.call("GET", "/healthz", null, Map.of()).status()).as("not ready").isEqualTo(503);

            pg.startAgain();
            await().atMost(30, SECONDS).until(() -> connect(platform, device, product) == 0);
            await().atMost(30, SECONDS).until(() -> platform.call("GET", "/healthz", null, Map.of()).status() == 200);
            try (RawMqtt after = new RawMqtt(platform.mqttPort())) {
                assertThat(after.connect(device.id(), product.id(), "SN-OUT", 60, true)).isZero();
                after.send(RawMqtt.publishPacket("$dp", 1, 3, Points.dp(3, "{\"t\":3}")));
                assertThat(after.read().header()).as("PUBACK once the database is back").isEqualTo(0x40);
            }
            assertThat(storedValues(url, Long.parseLong(device.id()))).as("every acknowledged point").contains("1", "3");
            assertThat(log.lines("store unavailable")).hasSize(1);
            assertThat(log.lines("store available again")).hasSize(1);
        }
    }

    private static int connect(TestPlatform platform, TestDevice device, TestProduct product) throws IOException {
        try (RawMqtt probe = new RawMqtt(platform.mqttPort())) {
            return probe.connect(device.id(), product.id(), "SN-OUT", 60, true);
        }
    }

    private static List<String> storedValues(String url, long deviceId) throws SQLException {
        PostgresTarget target = PostgresTarget.parse(url, null);
        try (Connection c = DriverManager.getConnection(target.jdbcUrl(), target.user(), target.password());
             PreparedStatement ps = c.prepareStatement("SELECT value FROM datapoint WHERE device_id = ? ORDER BY ts")) {
            ps.setLong(1, deviceId);
            try (ResultSet rs = ps.executeQuery()) {
                List<String> values = new ArrayList<>();
                while (rs.next()) {
                    values.add(rs.getString(1));
                }
                return values;
            }
        }
    }
}
