package io.stratus.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Commands outlive a restart of the server: open ones are delivered and expire afterwards, ended ones keep their result. */
class CommandRestartTest {
    @TempDir
    Path dataDir;

    @Test
    void command_for_an_offline_device_is_delivered_after_a_restart_and_its_result_persists() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            TestProduct product = platform.createProduct("restart");
            String key = product.masterKey();
            TestDevice dev = Clients.device(platform, product, "sleeper");
            String uuid = Cmds.send(platform, key, dev, "qos=1&timeout=600", "wake up");

            platform.restart();
            assertThat(Cmds.status(platform, key, uuid)).isEqualTo(1);
            try (Cmds.Device d = Cmds.Device.connect(platform, dev)) {
                assertThat(new String(d.nextCommand(uuid).getPayloadAsBytes(), UTF_8)).isEqualTo("wake up");
                await().atMost(5, SECONDS).until(() -> Cmds.status(platform, key, uuid) == 2);
                d.answer(uuid, "awake");
                assertThat(Cmds.status(platform, key, uuid)).isEqualTo(4);
            }

            platform.restart();
            assertThat(Cmds.status(platform, key, uuid)).isEqualTo(4);
            assertThat(Cmds.response(platform, key, uuid).text()).isEqualTo("awake");
            JsonNode item = platform.withKey(key, "GET", "/cmds/history/" + dev.id(), null).data().path("items").get(0);
            assertThat(item.path("confirm_body").asText()).isEqualTo(HexFormat.of().formatHex("awake".getBytes(UTF_8)));
            // Answered before the restart: not sent again at the next login.
            try (Cmds.Device d = Cmds.Device.connect(platform, dev)) {
                String marker = Cmds.send(platform, key, dev, "", "marker");
                d.nextCommand(marker);
            }
        }
    }

    @Test
    void sent_but_unanswered_qos1_command_is_sent_again_after_a_restart() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            TestProduct product = platform.createProduct("restart-resend");
            String key = product.masterKey();
            TestDevice dev = Clients.device(platform, product, "forgetful");
            String uuid;
            try (Cmds.Device d = Cmds.Device.connect(platform, dev)) {
                uuid = Cmds.send(platform, key, dev, "qos=1&timeout=600", "again");
                d.nextCommand(uuid);
                await().atMost(5, SECONDS).until(() -> Cmds.status(platform, key, uuid) == 2);
            }
            platform.restart();
            assertThat(Cmds.status(platform, key, uuid)).isEqualTo(2);
            try (Cmds.Device d = Cmds.Device.connect(platform, dev)) {
                assertThat(new String(d.nextCommand(uuid).getPayloadAsBytes(), UTF_8)).isEqualTo("again");
                d.answer(uuid, "ok");
                assertThat(Cmds.status(platform, key, uuid)).isEqualTo(4);
            }
        }
    }

    @Test
    void command_that_expired_while_the_server_was_down_times_out_at_start() {
        TestPlatform platform = TestPlatform.start(dataDir);
        TestProduct product = platform.createProduct("restart-expiry");
        String key = product.masterKey();
        TestDevice dev = Clients.device(platform, product, "late");
        long created = System.currentTimeMillis();
        String uuid = Cmds.send(platform, key, dev, "timeout=1", "short-lived");
        platform.close();
        // Down for longer than the command's window (waiting on the clock, not sleeping).
        await().atMost(5, SECONDS).until(() -> System.currentTimeMillis() > created + 1_500);
        try (TestPlatform again = TestPlatform.start(dataDir)) {
            await().atMost(5, SECONDS).until(() -> Cmds.status(again, key, uuid) == 5);
        }
    }
}
