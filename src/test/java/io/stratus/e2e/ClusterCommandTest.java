package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Commands through any node's API to a device connected to another node, and stored ones sent by the node their
 * device logs in to, once.
 */
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

    // Stored commands (timeout > 0) made through one node for an offline device, sent by the node it logs in to.

    @Test
    void a_command_stored_on_node_1_is_sent_once_by_node_2_where_its_device_logs_in_and_answered_there() throws Exception {
        byte[] body = new byte[256];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) i;
        }
        String answered = Cmds.send(node1, product.masterKey(), device, "qos=1&timeout=60", body);
        String unanswered = Cmds.send(node1, product.masterKey(), device, "qos=0&timeout=60", "later");
        assertThat(Cmds.status(node1, product.masterKey(), answered)).isEqualTo(1);

        try (Cmds.Device d = Cmds.Device.connect(node2, device)) {
            assertThat(d.nextCommand(answered).getPayloadAsBytes()).isEqualTo(body);
            assertThat(new String(d.nextCommand(unanswered).getPayloadAsBytes())).isEqualTo("later");
            await().atMost(5, TimeUnit.SECONDS).until(() -> Cmds.status(node1, product.masterKey(), answered) == 2
                    && Cmds.status(node1, product.masterKey(), unanswered) == 2);

            byte[] response = {0, (byte) 0xff, 13, 10, 'o', 'k'};
            d.answer(answered, response, MqttQos.AT_LEAST_ONCE);
            await().atMost(5, TimeUnit.SECONDS).until(() -> Cmds.status(node1, product.masterKey(), answered) == 4);
            assertThat(Cmds.response(node1, product.masterKey(), answered).body()).isEqualTo(response);
            assertThat(nothingWithin(d, 1_500)).as("sent once").isEmpty();
        }

        try (Cmds.Device d = Cmds.Device.connect(node1, device)) {
            assertThat(nothingWithin(d, 2_000)).as("not sent again at a login to node 1").isEmpty();
        }
        try (Cmds.Device d = Cmds.Device.connect(node2, device)) {
            assertThat(nothingWithin(d, 1_000)).as("nor to node 2").isEmpty();
        }
        assertThat(Cmds.status(node2, product.masterKey(), answered)).isEqualTo(4);
        assertThat(Cmds.status(node2, product.masterKey(), unanswered)).isEqualTo(2);
    }

    @Test
    void a_qos1_command_sent_by_node_2_and_not_answered_is_sent_again_by_node_1_and_answered_there() throws Exception {
        String uuid = Cmds.send(node1, product.masterKey(), device, "qos=1&timeout=60", "again");
        try (Cmds.Device d = Cmds.Device.connect(node2, device)) {
            d.nextCommand(uuid);
            await().atMost(5, TimeUnit.SECONDS).until(() -> Cmds.status(node1, product.masterKey(), uuid) == 2);
        }
        try (Cmds.Device d = Cmds.Device.connect(node1, device)) {
            assertThat(new String(d.nextCommand(uuid).getPayloadAsBytes())).isEqualTo("again");
            d.answer(uuid, "done");
            await().atMost(5, TimeUnit.SECONDS).until(() -> Cmds.status(node2, product.masterKey(), uuid) == 4);
            assertThat(Cmds.response(node2, product.masterKey(), uuid).text()).isEqualTo("done");
        }
    }

    @Test
    void a_stored_command_no_login_takes_expires_once_and_is_never_sent() throws Exception {
        String uuid = Cmds.send(node1, product.masterKey(), device, "timeout=2", "too late");

        await().atMost(8, TimeUnit.SECONDS).until(() -> Cmds.status(node2, product.masterKey(), uuid) == 5);
        assertThat(Cmds.status(node1, product.masterKey(), uuid)).isEqualTo(5);
        Thread.sleep(2_500); // several sweeps of both nodes
        assertThat(node1.metric("stratus_commands_expired_total") + node2.metric("stratus_commands_expired_total"))
                .as("status 5 written once, by one node").isEqualTo(1.0);

        try (Cmds.Device d = Cmds.Device.connect(node2, device)) {
            assertThat(nothingWithin(d, 1_500)).isEmpty();
        }
        answerLate(uuid);
        assertThat(Cmds.status(node1, product.masterKey(), uuid)).isEqualTo(5);
    }

    /** A late answer, on either node, changes nothing. */
    private void answerLate(String uuid) throws InterruptedException {
        try (Cmds.Device d = Cmds.Device.connect(node1, device)) {
            d.answer(uuid, "late");
        }
    }

    private static Optional<Mqtt3Publish> nothingWithin(Cmds.Device d, long millis) throws InterruptedException {
        return d.received.receive(millis, TimeUnit.MILLISECONDS);
    }
}
