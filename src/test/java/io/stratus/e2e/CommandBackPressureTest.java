package io.stratus.e2e;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A device that stops reading its socket cannot make the server hold every command sent to it: once its connection's
 * send buffer is full, further online-only commands end in status 3 (send failed) instead of piling up in memory.
 */
class CommandBackPressureTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();

    @Test
    void commands_to_a_device_that_does_not_read_fail_once_its_buffer_is_full() throws Exception {
        TestProduct product = platform.createProduct("deaf");
        TestDevice device = platform.createDevice(product, "deaf", "SN-DEAF");
        try (Socket socket = new Socket()) {
            socket.setReceiveBufferSize(4096); // little kernel buffering, so the server's own buffer fills
            socket.connect(new InetSocketAddress("127.0.0.1", platform.mqttPort()), 5000);
            socket.getOutputStream().write(RawMqtt.connectPacket(4, device.id(), product.id(), "SN-DEAF", 60, true));
            InputStream in = socket.getInputStream();
            assertThat(in.readNBytes(4)).as("CONNACK 0").containsExactly(0x20, 0x02, 0x00, 0x00);
            // From here on the device reads nothing.

            byte[] body = new byte[60 * 1024];
            List<String> uuids = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                uuids.add(Cmds.send(platform, product.masterKey(), device, "", body));
            }

            await().atMost(10, SECONDS).untilAsserted(() -> assertThat(uuids.stream()
                    .filter(u -> Cmds.status(platform, product.masterKey(), u) == 3).count())
                    .as("commands failed for a full send buffer").isGreaterThan(100));
        }
    }
}
