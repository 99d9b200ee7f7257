package io.stratus.e2e;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stratus.e2e.RawMqtt.Packet;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Storage faults, injected at the store's commit (Database.injectFault; {@code DiskFullTest} does it with a real full
 * filesystem where the machine allows a mount): a write that cannot be stored is never acknowledged, the device is
 * disconnected with the store's reason in the log, readiness turns 503, HTTP uploads get errno 13, new CONNECTs get
 * CONNACK 3 (D5, docs/decisions.md); once the fault clears everything works again without a restart.
 */
class StorageFaultTest {
    static final String DISK_FULL = "[SQLITE_FULL] Insertion failed because database is full (database or disk is full)";

    @TempDir
    Path dataDir;

    @RegisterExtension
    final LogCapture connectionLog = LogCapture.mqttConnection();

    @Test
    void nothing_is_acknowledged_that_was_not_stored_and_ingest_recovers_when_the_fault_clears() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir); LogCapture writerLog = LogCapture.of("io.stratus.store.BatchWriter").attach()) {
            TestProduct product = platform.createProduct("p");
            TestDevice device = platform.createDevice(product, "d", "sn");
            TestDevice retainer = platform.createDevice(product, "r", "sn-r");
            // Connected before the fault: a CONNECT during it gets CONNACK 3.
            RawMqtt retaining = new RawMqtt(platform.mqttPort());
            assertThat(retaining.connect(retainer.id(), product.id(), "sn-r", 30, true)).isZero();

            try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                assertThat(raw.connect(device.id(), product.id(), "sn", 30, true)).isZero();
                raw.send(RawMqtt.publishPacket("$dp", 1, 1, Points.dp(3, "{\"t\":1}")));
                assertThat(raw.read().type()).isEqualTo(Clients.PUBACK);

                platform.platform().database().injectFault(DISK_FULL);
                raw.send(RawMqtt.publishPacket("$dp", 1, 2, Points.dp(3, "{\"t\":2}")));

                List<Packet> before = raw.packetsUntilClosed(5000);
                assertThat(before).as("no PUBACK for a point that was not stored").noneMatch(p -> p.type() == Clients.PUBACK);
            }
            assertThat(connectionLog.await("publish to $dp failed", "database or disk is full")).contains(device.id());
            // "datapoint write failed" on SQLite; "datapoint-0" or "-1" on PostgreSQL, whose device picks one of two writers.
            assertThat(writerLog.lines(" write failed", "database or disk is full")).anyMatch(l -> l.startsWith("datapoint"));

            Reply health = platform.call("GET", "/healthz", null, Map.of());
            assertThat(health.status()).isEqualTo(503);
            assertThat(health.body().path("checks").path("store").asText()).contains("store not writable", "database or disk is full");

            Reply upload = platform.withKey(product.masterKey(), "POST", "/devices/" + device.id() + "/datapoints",
                    "{\"datastreams\":[{\"id\":\"t\",\"datapoints\":[{\"value\":3}]}]}");
            assertThat(upload.errno()).isEqualTo(13);
            assertThat(upload.status()).as("OneNET's routes answer errno 13 with HTTP 200").isEqualTo(200);
            assertThat(upload.body().path("error").asText()).contains("nothing stored");

            // D5: storage unavailable -> CONNACK 3, and the connection is closed.
            try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                assertThat(raw.connect(device.id(), product.id(), "sn", 30, true)).isEqualTo(3);
                assertThat(raw.closedWithin(5000)).isTrue();
            }

            // Retained and persistent-session messages are stored before their PUBACK too (D25): withheld likewise.
            try (RawMqtt raw = retaining) {
                raw.send(RawMqtt.packet(0x33, concat(str("r/t"), new byte[] {0, 5}, "kept?".getBytes(StandardCharsets.UTF_8))));
                assertThat(raw.packetsUntilClosed(5000)).noneMatch(p -> p.type() == Clients.PUBACK);
            }

            platform.platform().database().injectFault(null);
            // The store takes writes again (the readiness probe's write succeeds), but the latest datapoint commit
            // failed: readiness stays red and CONNECTs are refused on that same record, until a commit succeeds or 30 s pass.
            Reply stillRed = platform.call("GET", "/healthz", null, Map.of());
            assertThat(stillRed.status()).isEqualTo(503);
            assertThat(stillRed.body().path("checks").path("store").asText()).contains("last datapoint commit failed");
            try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                assertThat(raw.connect(device.id(), product.id(), "sn", 30, true)).isEqualTo(3);
            }
            Reply stored = platform.withKey(product.masterKey(), "POST", "/devices/" + device.id() + "/datapoints",
                    "{\"datastreams\":[{\"id\":\"t\",\"datapoints\":[{\"value\":3}]}]}");
            assertThat(stored.errno()).isZero();
            await().atMost(10, SECONDS).untilAsserted(() -> {
                try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                    assertThat(raw.connect(device.id(), product.id(), "sn", 30, true)).isZero();
                    raw.send(RawMqtt.publishPacket("$dp", 1, 3, Points.dp(3, "{\"t\":4}")));
                    assertThat(raw.read().type()).isEqualTo(Clients.PUBACK);
                }
            });
            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(platform.call("GET", "/healthz", null, Map.of()).status()).isEqualTo(200));
            assertThat(Points.all(platform, product.masterKey(), device)).extracting(p -> p.value().asInt())
                    .containsExactlyInAnyOrder(1, 3, 4);
        }
    }

    @Test
    void connects_are_refused_with_connack_3_while_the_store_is_down_and_accepted_again_once_a_probe_write_succeeds_D5()
            throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            TestProduct product = platform.createProduct("p");
            TestDevice online = platform.createDevice(product, "online", "sn-1");
            TestDevice late = platform.createDevice(product, "late", "sn-2");

            try (RawMqtt connected = new RawMqtt(platform.mqttPort())) {
                assertThat(connected.connect(online.id(), product.id(), "sn-1", 60, true)).isZero();

                platform.platform().database().injectFault(DISK_FULL);
                // The readiness probe's write fails: from now on the store is known to be down.
                assertThat(platform.call("GET", "/healthz", null, Map.of()).status()).isEqualTo(503);

                try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                    assertThat(raw.connect(late.id(), product.id(), "sn-2", 30, true)).isEqualTo(3);
                    assertThat(raw.closedWithin(5000)).as("closed after CONNACK 3").isTrue();
                }
                // Answered before the credentials, as while shutting down: a wrong password gets 3 as well, not 4.
                try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                    assertThat(raw.connect(late.id(), product.id(), "wrong", 30, true)).isEqualTo(3);
                }
                // A down store may refuse thousands of reconnecting devices: logged at DEBUG, not at INFO or WARN.
                assertThat(connectionLog.lines("refused with CONNACK")).isEmpty();

                // A device connected before the fault is left alone by the refusals.
                connected.sendHex("c000");
                assertThat(connected.read().type()).isEqualTo(Clients.PINGRESP);

                platform.platform().database().injectFault(null);
                // Nothing writes now (refused devices cannot, nobody asks /healthz) and the failure would count for
                // 30 s: accepted again within 10 s only because the store's probe write runs while a failure is recorded.
                await().atMost(10, SECONDS).untilAsserted(() -> {
                    try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                        assertThat(raw.connect(late.id(), product.id(), "sn-2", 30, true)).isZero();
                    }
                });
                connected.send(RawMqtt.publishPacket("$dp", 1, 1, Points.dp(3, "{\"t\":1}")));
                assertThat(connected.read().type()).isEqualTo(Clients.PUBACK);
            }
        }
    }

    private static byte[] str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return concat(new byte[] {(byte) (b.length >> 8), (byte) b.length}, b);
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
