package io.stratus.e2e;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real full disk: the store on an 8 MiB tmpfs (needs root and {@code mount}; skipped where the machine allows no
 * mount), filled up by a filler file and then by data points. The first point that cannot be stored gets no PUBACK,
 * the device is disconnected with SQLite's reason, readiness turns 503, new CONNECTs get CONNACK 3 (D5,
 * docs/decisions.md); once the filler is deleted, ingest, CONNECTs and readiness recover without a restart, and every
 * acknowledged point is there.
 */
class DiskFullTest {
    @TempDir
    Path tmp;

    @Test
    void a_full_disk_withholds_the_puback_and_recovers_when_space_returns() throws Exception {
        Path mnt = tmp.resolve("mnt");
        Files.createDirectories(mnt);
        Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt.toString()) == 0,
                "this machine allows no tmpfs mount (not root?); StorageFaultTest covers the same with injected faults");
        try (LogCapture log = LogCapture.mqttConnection().attach()) {
            try (TestPlatform platform = TestPlatform.start(mnt.resolve("data"))) {
                TestProduct product = platform.createProduct("p");
                TestDevice device = platform.createDevice(product, "d", "sn");
                Path filler = mnt.resolve("filler");
                fill(filler);

                List<Integer> acked = new ArrayList<>();
                String big = "x".repeat(4000);
                int failedAt = -1;
                try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                    assertThat(raw.connect(device.id(), product.id(), "sn", 0, true)).isZero();
                    for (int i = 1; i <= 5000 && failedAt < 0; i++) {
                        raw.send(RawMqtt.publishPacket("$dp", 1, i % 60000 + 1, Points.dp(3, "{\"s" + i + "\":\"" + big + "\"}")));
                        try {
                            RawMqtt.Packet p = raw.read();
                            assertThat(p.type()).isEqualTo(Clients.PUBACK);
                            acked.add(i);
                        } catch (IOException closed) {
                            failedAt = i;
                        }
                    }
                }
                assertThat(failedAt).as("a point that found the disk full").isPositive();
                assertThat(acked).as("points stored before the disk filled").isNotEmpty();
                assertThat(log.await("closed: publish to $dp failed")).containsIgnoringCase("full");
                Reply health = platform.call("GET", "/healthz", null, Map.of());
                assertThat(health.status()).isEqualTo(503);

                try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                    assertThat(raw.connect(device.id(), product.id(), "sn", 0, true)).as("CONNACK 3 while the store is down (D5)").isEqualTo(3);
                }

                Files.delete(filler);
                // CONNECTs are refused until a datapoint commit succeeds (or 30 s pass): here an HTTP upload.
                await().atMost(10, SECONDS).untilAsserted(() -> assertThat(platform.withKey(product.masterKey(), "POST",
                        "/devices/" + device.id() + "/datapoints", "{\"datastreams\":[{\"id\":\"http\",\"datapoints\":[{\"value\":1}]}]}")
                        .errno()).isZero());
                await().atMost(10, SECONDS).untilAsserted(() -> {
                    try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                        assertThat(raw.connect(device.id(), product.id(), "sn", 0, true)).isZero();
                        raw.send(RawMqtt.publishPacket("$dp", 1, 1, Points.dp(3, "{\"after\":1}")));
                        assertThat(raw.read().type()).isEqualTo(Clients.PUBACK);
                    }
                });
                await().atMost(10, SECONDS).untilAsserted(() -> assertThat(platform.call("GET", "/healthz", null, Map.of()).status()).isEqualTo(200));
                List<String> streams = new ArrayList<>(Points.streams(platform, product.masterKey(), device.id()).keySet());
                for (int i : acked) {
                    assertThat(streams).as("acknowledged point " + i).contains("s" + i);
                }
                assertThat(streams).contains("after");
                System.out.printf("disk full: %d points acknowledged before point %d found the disk full; recovered after freeing space%n",
                        acked.size(), failedAt);
            }
        } finally {
            run("umount", "-l", mnt.toString());
        }
    }

    /** Writes zeros until the filesystem is full, then gives back 256 KiB so that some points still fit. */
    private static void fill(Path file) throws IOException {
        byte[] chunk = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) {
                out.write(chunk);
            }
        } catch (IOException full) {
            // no space left on the device: what we wanted
        }
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(Math.max(0, ch.size() - 256 * 1024));
        }
    }

    private static int run(String... command) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (IOException e) {
            return -1;
        }
    }
}
