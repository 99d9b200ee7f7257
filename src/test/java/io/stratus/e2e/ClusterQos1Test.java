package io.stratus.e2e;

import static io.stratus.e2e.Clients.connect;
import static io.stratus.e2e.Clients.hivemq;
import static io.stratus.e2e.Clients.next;
import static io.stratus.e2e.Clients.text;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.stratus.cluster.MessageLog;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** QoS 1 and 2 between two nodes through the cluster's JetStream stream: online and persistent subscribers. */
class ClusterQos1Test {
    private TwoNodes cluster;
    private TestPlatform node1;
    private TestPlatform node2;
    private TestProduct product;
    private final List<Mqtt3BlockingClient> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        cluster = TwoNodes.start();
        node1 = cluster.node1();
        node2 = cluster.node2();
        product = node1.createProduct("qos1");
    }

    @AfterEach
    void stop() {
        clients.forEach(c -> {
            if (c.getState().isConnected()) {
                c.disconnect();
            }
        });
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void qos_1_and_2_messages_reach_subscribers_on_the_other_node_once_each() throws Exception {
        Mqtt3BlockingClient remote = client(node2, "remote", true);
        Mqtt3BlockingClient local = client(node1, "local", true);
        Mqtt3BlockingClient publisher = client(node1, "publisher", true);
        try (var remoteGot = remote.publishes(MqttGlobalPublishFilter.ALL); var localGot = local.publishes(MqttGlobalPublishFilter.ALL)) {
            remote.subscribeWith().topicFilter("t/#").qos(MqttQos.EXACTLY_ONCE).send();
            local.subscribeWith().topicFilter("t/+").qos(MqttQos.AT_LEAST_ONCE).send();
            for (int i = 0; i < 100; i++) {
                publisher.publishWith().topic("t/" + i).qos(i % 2 == 0 ? MqttQos.AT_LEAST_ONCE : MqttQos.EXACTLY_ONCE)
                        .payload(("m" + i).getBytes(UTF_8)).send(); // returns after PUBACK / PUBCOMP
            }
            assertThat(texts(remoteGot, 100)).containsExactlyElementsOf(expected(100));
            assertThat(texts(localGot, 100)).as("the publisher's node, not doubled by the stream").hasSize(100);
            assertThat(remoteGot.receive(300, MILLISECONDS)).isEmpty();
            assertThat(localGot.receive(300, MILLISECONDS)).isEmpty();
        }
        assertThat(node1.metric("stratus_cluster_log_appended_total")).isEqualTo(100);
        assertThat(node2.metric("stratus_cluster_log_received_total")).isEqualTo(100);
    }

    @Test
    void a_persistent_session_on_one_node_gets_what_another_node_published_while_it_was_away() throws Exception {
        Mqtt3BlockingClient sleeper = client(node2, "sleeper", false);
        sleeper.subscribeWith().topicFilter("news/#").qos(MqttQos.AT_LEAST_ONCE).send();
        sleeper.disconnect();
        Mqtt3BlockingClient publisher = client(node1, "publisher", true);
        for (int i = 0; i < 50; i++) {
            publisher.publishWith().topic("news/" + i).qos(MqttQos.AT_LEAST_ONCE).payload(("m" + i).getBytes(UTF_8)).send();
        }
        long deadline = System.nanoTime() + 5_000_000_000L; // node 2 reads the stream and queues them for the offline session
        while (node2.metric("stratus_cluster_log_received_total") < 50 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }

        Mqtt3BlockingClient back = hivemq(node2, new TestDevice(deviceIds.get("sleeper"), product.id(), "sn-sleeper"));
        clients.add(back);
        try (var got = back.publishes(MqttGlobalPublishFilter.ALL)) {
            assertThat(connect(back, false).isSessionPresent()).isTrue();
            assertThat(texts(got, 50)).containsExactlyElementsOf(expected(50));
        }
    }

    @Test
    void a_retained_message_set_or_cleared_on_one_node_is_what_a_new_subscriber_on_the_other_gets() throws Exception {
        Mqtt3BlockingClient publisher = client(node1, "publisher", true);
        byte[] large = new byte[4_000];
        large[3_999] = 7;
        publisher.publishWith().topic("r/small").qos(MqttQos.AT_LEAST_ONCE).retain(true).payload("on".getBytes(UTF_8)).send();
        publisher.publishWith().topic("r/large").qos(MqttQos.AT_LEAST_ONCE).retain(true).payload(large).send();
        publisher.publishWith().topic("r/gone").qos(MqttQos.AT_LEAST_ONCE).retain(true).payload("x".getBytes(UTF_8)).send();
        publisher.publishWith().topic("r/gone").qos(MqttQos.AT_LEAST_ONCE).retain(true).payload(new byte[0]).send();
        long deadline = System.nanoTime() + 5_000_000_000L; // node 2 has read the four from the stream (and the announcements)
        while (node2.metric("stratus_cluster_log_received_total") < 4 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Thread.sleep(100);

        Mqtt3BlockingClient late = client(node2, "late", true);
        try (var got = late.publishes(MqttGlobalPublishFilter.ALL)) {
            late.subscribeWith().topicFilter("r/#").qos(MqttQos.AT_LEAST_ONCE).send();
            Map<String, byte[]> retained = new HashMap<>();
            for (int i = 0; i < 2; i++) {
                Mqtt3Publish p = next(got);
                assertThat(p.isRetain()).isTrue();
                retained.put(p.getTopic().toString(), p.getPayloadAsBytes());
            }
            assertThat(retained.keySet()).containsExactlyInAnyOrder("r/small", "r/large");
            assertThat(retained.get("r/large")).isEqualTo(large);
            assertThat(got.receive(300, MILLISECONDS)).as("r/gone was cleared on node 1").isEmpty();
        }
    }

    @Test
    void one_stream_and_one_consumer_per_node_whatever_the_number_of_sessions() throws Exception {
        for (int i = 0; i < 40; i++) {
            Mqtt3BlockingClient c = client(i % 2 == 0 ? node1 : node2, "s" + i, i % 4 < 2);
            c.subscribeWith().topicFilter("x/" + i).qos(MqttQos.AT_LEAST_ONCE).send();
        }
        try (Connection c = Nats.connect(cluster.nats().url())) {
            var management = c.jetStreamManagement();
            assertThat(management.getStreamNames()).containsExactly(MessageLog.STREAM);
            assertThat(management.getConsumerNames(MessageLog.STREAM)).containsExactlyInAnyOrder("node-node1", "node-node2");
        }
    }

    private final Map<String, String> deviceIds = new HashMap<>();

    private Mqtt3BlockingClient client(TestPlatform node, String name, boolean clean) {
        TestDevice d = node1.createDevice(product, name, "sn-" + name);
        deviceIds.put(name, d.id());
        Mqtt3BlockingClient c = hivemq(node, d);
        connect(c, clean);
        clients.add(c);
        return c;
    }

    private static List<String> texts(com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient.Mqtt3Publishes got, int n)
            throws InterruptedException {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Mqtt3Publish p = next(got);
            out.add(text(p));
        }
        return out;
    }

    private static List<String> expected(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add("m" + i);
        }
        return out;
    }

}
