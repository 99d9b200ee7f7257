package io.stratus.e2e;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Open commands (issue 14): one product cannot fill the server's allowance (commands.max-open-per-product below
 * commands.max-open), a refusal is errno 13, and an open command keeps nothing of its body in memory.
 */
class CommandLimitsTest {
    @TempDir
    Path dataDir;

    @Test
    void a_product_at_its_open_command_bound_gets_errno_13_while_another_product_still_sends() {
        try (TestPlatform platform = TestPlatform.start(dataDir, Map.of("commands.max-open-per-product", "3",
                "commands.max-open", "5"))) {
            TestProduct a = platform.createProduct("A");
            TestProduct b = platform.createProduct("B");
            TestDevice aDevice = platform.createDevice(a, "a", "a-sn"); // offline: its commands stay open
            TestDevice bDevice = platform.createDevice(b, "b", "b-sn");
            for (int i = 0; i < 3; i++) {
                Cmds.send(platform, a.masterKey(), aDevice, "timeout=2678400", new byte[60 * 1024]);
            }

            Reply aRefused = Cmds.post(platform, a.masterKey(), "device_id=" + aDevice.id() + "&timeout=60", new byte[] {1});
            Cmds.send(platform, b.masterKey(), bDevice, "timeout=1", "expires soon");
            Cmds.send(platform, b.masterKey(), bDevice, "timeout=1", "expires soon too");
            Reply serverFull = Cmds.post(platform, b.masterKey(), "device_id=" + bDevice.id() + "&timeout=60", new byte[] {1});

            assertThat(aRefused.status()).as("a OneNET route: errno with HTTP 200").isEqualTo(200);
            assertThat(aRefused.errno()).isEqualTo(13);
            assertThat(aRefused.body().path("error").asText()).contains("commands.max-open-per-product");
            assertThat(serverFull.errno()).isEqualTo(13);
            assertThat(serverFull.body().path("error").asText()).contains("commands.max-open");
            assertThat(platform.metric("stratus_commands_open")).isEqualTo(5);
            assertThat(platform.metric("stratus_commands_refused_total")).isEqualTo(2);

            // B's commands expire after 1 s and free their places; A stays at its own bound.
            await().atMost(10, SECONDS).until(() -> Cmds.post(platform, b.masterKey(), "device_id=" + bDevice.id()
                    + "&timeout=60", new byte[] {2}).errno() == 0);
            assertThat(Cmds.post(platform, a.masterKey(), "device_id=" + aDevice.id() + "&timeout=60", new byte[] {1}).errno())
                    .isEqualTo(13);
        }
    }

    @Test
    void the_bound_counts_commands_of_an_earlier_run_and_frees_a_place_when_one_ends() throws Exception {
        TestProduct a;
        TestDevice device;
        try (TestPlatform platform = TestPlatform.start(dataDir, Map.of("commands.max-open-per-product", "2"))) {
            a = platform.createProduct("A");
            device = platform.createDevice(a, "a", "a-sn");
            Cmds.send(platform, a.masterKey(), device, "timeout=600", "one");
            Cmds.send(platform, a.masterKey(), device, "qos=1&timeout=600", "two");
        }
        try (TestPlatform platform = TestPlatform.start(dataDir, Map.of("commands.max-open-per-product", "2"))) {
            assertThat(Cmds.post(platform, a.masterKey(), "device_id=" + device.id() + "&timeout=600", new byte[] {3}).errno())
                    .isEqualTo(13);

            try (Cmds.Device d = Cmds.Device.connect(platform, device)) {
                for (int i = 0; i < 2; i++) { // both are sent at the login; answered, they end and leave the count
                    String topic = d.next().getTopic().toString();
                    d.answer(topic.substring("$creq/".length()), "done");
                }
            }

            await().atMost(5, SECONDS).until(() -> Cmds.post(platform, a.masterKey(), "device_id=" + device.id()
                    + "&timeout=600", new byte[] {3}).errno() == 0);
        }
    }

    /**
     * The 60 KB body of an open command is not reachable once the command is stored (issue 14: the expiry task held
     * the whole command, 244 MB for 3,878 commands): a weak reference to it clears after a GC.
     */
    @Test
    void an_open_command_keeps_no_reference_to_its_body() {
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            TestProduct p = platform.createProduct("P");
            TestDevice device = platform.createDevice(p, "offline", "sn");

            WeakReference<byte[]> body = sendOpen(platform, Long.parseLong(p.id()), Long.parseLong(device.id()));

            await().atMost(10, SECONDS).until(() -> {
                System.gc();
                return body.get() == null;
            });
            assertThat(platform.platform().commands().openCount()).isEqualTo(1);
        }
    }

    /** Sends a 60 KB command that stays open for 31 days and returns a weak reference to its body only. */
    private static WeakReference<byte[]> sendOpen(TestPlatform platform, long productId, long deviceId) {
        byte[] body = new byte[60 * 1024];
        Arrays.fill(body, (byte) 'x');
        platform.platform().commands().send(productId, deviceId, body, 1, 2_678_400);
        return new WeakReference<>(body);
    }
}
