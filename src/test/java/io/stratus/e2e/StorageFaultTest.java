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
 * disconnected with the store's reason in the log, readiness turns 503, HTTP uploads get errno 13; once the fault clears
 * everything works again without a restart.
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
            assertThat(writerLog.lines("datapoint write failed", "database or disk is full")).isNotEmpty();

            Reply health = platform.call("GET", "/healthz", null, Map.of());
            assertThat(health.status()).isEqualTo(503);
            assertThat(health.body().path("checks").path("store").asText()).contains("store not writable", "database or disk is full");

            Reply upload = platform.withKey(product.masterKey(), "POST", "/devices/" + device.id() + "/datapoints",
                    "{\"datastreams\":[{\"id\":\"t\",\"datapoints\":[{\"value\":3}]}]}");
            assertThat(upload.errno()).isEqualTo(13);
            assertThat(upload.status()).isEqualTo(503);
            assertThat(upload.body().path("error").asText()).contains("nothing stored");

            // Retained and persistent-session messages are stored before their PUBACK too (D25): withheld likewise.
            try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                assertThat(raw.connect(device.id(), product.id(), "sn", 30, true)).isZero();
                raw.send(RawMqtt.packet(0x33, concat(str("r/t"), new byte[] {0, 5}, "kept?".getBytes(StandardCharsets.UTF_8))));
                assertThat(raw.packetsUntilClosed(5000)).noneMatch(p -> p.type() == Clients.PUBACK);
            }

            platform.platform().database().injectFault(null);
            try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                assertThat(raw.connect(device.id(), product.id(), "sn", 30, true)).isZero();
                raw.send(RawMqtt.publishPacket("$dp", 1, 3, Points.dp(3, "{\"t\":4}")));
                assertThat(raw.read().type()).isEqualTo(Clients.PUBACK);
            }
            // Ready again once a data point was stored (a failed datapoint commit keeps readiness red up to 30 s).
            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(platform.call("GET", "/healthz", null, Map.of()).status()).isEqualTo(200));
            assertThat(Points.all(platform, product.masterKey(), device)).extracting(p -> p.value().asInt()).containsExactly(1, 4);
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
