package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Commands through any node's API to a device connected to another node. */
class ClusterCommandTest {
    private TwoNodes cluster;
    private TestPlatform node1;
    private TestPlatform node2;
    private TestProduct product;
    private TestDevice device;

    @BeforeEach
    void start() throws Exception {
        cluster = TwoNodes.start();
        node1 = cluster.node1();
        node2 = cluster.node2();
        product = node1.createProduct("commands");
        device = node1.createDevice(product, "d", "sn-cmd");
    }

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void a_command_made_on_one_node_reaches_its_device_on_another_and_its_response_comes_back_byte_for_byte() throws Exception {
        byte[] body = new byte[256];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) i;
        }
        try (Cmds.Device d = Cmds.Device.connect(node2, device)) {
            String uuid = Cmds.send(node1, product.masterKey(), device, "qos=1&timeout=60", body);

            Mqtt3Publish p = d.nextCommand(uuid);
            assertThat(p.getPayloadAsBytes()).isEqualTo(body);
            await().atMost(5, TimeUnit.SECONDS).until(() -> Cmds.status(node1, product.masterKey(), uuid) == 2);

            byte[] response = {0, (byte) 0xff, 13, 10, 'o', 'k'};
            d.answer(uuid, response, MqttQos.AT_LEAST_ONCE);
            await().atMost(5, TimeUnit.SECONDS).until(() -> Cmds.status(node1, product.masterKey(), uuid) == 4);
            assertThat(Cmds.response(node1, product.masterKey(), uuid).body()).isEqualTo(response);

            String online = Cmds.send(node1, product.masterKey(), device, "timeout=0", "now");
            assertThat(new String(d.nextCommand(online).getPayloadAsBytes())).isEqualTo("now");
        }
    }

    @Test
    void an_online_only_command_to_a_device_whose_node_stopped_is_errno_10_at_once() throws Exception {
        Mqtt3BlockingClient c = Clients.hivemq(node2, device);
        Clients.connect(c, false); // a persistent session: its claim names node 2 after node 2 is gone
        node2.close();
        node2 = null;

        long started = System.nanoTime();
        TestPlatform.Reply r = Cmds.post(node1, product.masterKey(), "device_id=" + device.id() + "&timeout=0",
                "x".getBytes());
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

        assertThat(r.errno()).as(r.toString()).isEqualTo(10);
        assertThat(millis).as("ms for the answer").isLessThan(1_000);
    }

}
