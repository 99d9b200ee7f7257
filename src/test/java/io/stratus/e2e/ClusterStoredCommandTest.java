package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAckReturnCode;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Stored commands (timeout > 0) made through one node for an offline device, sent by the node it logs in to. */
class ClusterStoredCommandTest {
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
        product = node1.createProduct("stored-commands");
        device = node1.createDevice(product, "d", "sn-stored");
    }

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

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

        try (Cmds.Device d = reconnect(node1)) {
            assertThat(nothingWithin(d, 2_000)).as("not sent again at a login to node 1").isEmpty();
        }
        try (Cmds.Device d = reconnect(node2)) {
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
        try (Cmds.Device d = reconnect(node1)) {
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
        try (Cmds.Device d = reconnect(node1)) {
            d.answer(uuid, "late");
        }
    }

    /**
     * A login just after the device's previous clean session ended on another node: its claim can meet the old claim's
     * row as it is deleted and get CONNACK 3 (broker.ClaimStore: the insert saw the row, the select then finds none),
     * which a device retries.
     */
    private Cmds.Device reconnect(TestPlatform node) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                return Cmds.Device.connect(node, device);
            } catch (Mqtt3ConnAckException e) {
                if (attempt == 3 || e.getMqttMessage().getReturnCode() != Mqtt3ConnAckReturnCode.SERVER_UNAVAILABLE) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    private static Optional<Mqtt3Publish> nothingWithin(Cmds.Device d, long millis) throws InterruptedException {
        return d.received.receive(millis, TimeUnit.MILLISECONDS);
    }
}
