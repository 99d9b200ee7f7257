package io.stratus.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.api.PublishAck;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The QoS 1/2 log on a real nats-server with JetStream: one stream, one consumer per node, every node reads all. */
class MessageLogTest {
    private static final MessageLog.Settings SETTINGS = new MessageLog.Settings(1, Duration.ofHours(1), 64L << 20,
            Duration.ofMinutes(2), Duration.ofSeconds(2), 1_000);

    private final Subjects subjects = new Subjects("stratus");
    private NatsServer server;
    private Connection nats;

    @BeforeEach
    void start() throws Exception {
        server = NatsServer.start();
        nats = Nats.connect(server.url());
    }

    @AfterEach
    void stop() throws Exception {
        if (nats != null) {
            nats.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void one_stream_and_one_consumer_per_node_however_many_messages_and_reopenings() throws Exception {
        MessageLog node1 = MessageLog.open(nats, subjects, "host-a:1883", SETTINGS);
        MessageLog node2 = MessageLog.open(nats, subjects, "host-b:1883", SETTINGS);
        for (int i = 0; i < 200; i++) {
            node1.append(subjects.topic(Subjects.Kind.QOS1, 1, "dev/" + i), body(i), "n1:1:" + i).get(5, TimeUnit.SECONDS);
        }
        MessageLog.open(nats, subjects, "host-a:1883", SETTINGS); // a restart binds to its consumer again

        assertThat(nats.jetStreamManagement().getStreamNames()).containsExactly(MessageLog.STREAM);
        assertThat(nats.jetStreamManagement().getConsumerNames(MessageLog.STREAM))
                .containsExactlyInAnyOrder("node-host-a_3A1883", "node-host-b_3A1883");
        assertThat(read(node2, 200)).hasSize(200);
    }

    @Test
    void every_node_reads_every_message_in_order_and_an_acknowledged_one_only_once() throws Exception {
        MessageLog node1 = MessageLog.open(nats, subjects, "n1", SETTINGS);
        MessageLog node2 = MessageLog.open(nats, subjects, "n2", SETTINGS);
        for (int i = 0; i < 50; i++) {
            node2.append(subjects.topic(Subjects.Kind.QOS1, 1, "t"), body(i), "n2:1:" + i).get(5, TimeUnit.SECONDS);
        }
        for (MessageLog node : List.of(node1, node2)) {
            List<Message> got = read(node, 50);
            assertThat(got).extracting(m -> new String(m.getData(), StandardCharsets.UTF_8))
                    .containsExactlyElementsOf(bodies(50));
            got.forEach(Message::ack);
        }
        Thread.sleep(2_500); // past the ack wait: nothing comes again
        assertThat(node1.read(10, Duration.ofMillis(300))).isEmpty();
    }

    @Test
    void a_message_read_but_not_acknowledged_comes_again_after_the_ack_wait() throws Exception {
        MessageLog node = MessageLog.open(nats, subjects, "n1", SETTINGS);
        node.append(subjects.topic(Subjects.Kind.QOS1, 1, "t"), body(7), "n1:1:7").get(5, TimeUnit.SECONDS);

        assertThat(read(node, 1)).hasSize(1); // the node dies before it acks
        List<Message> again = node.read(1, Duration.ofSeconds(4));

        assertThat(again).hasSize(1);
        assertThat(again.get(0).metaData().deliveredCount()).isEqualTo(2);
    }

    @Test
    void an_append_retried_with_the_same_id_is_stored_once() throws Exception {
        MessageLog node = MessageLog.open(nats, subjects, "n1", SETTINGS);
        String subject = subjects.topic(Subjects.Kind.QOS1, 1, "t");

        PublishAck first = node.append(subject, body(1), "n1:1:1").get(5, TimeUnit.SECONDS);
        PublishAck retry = node.append(subject, body(1), "n1:1:1").get(5, TimeUnit.SECONDS);

        assertThat(first.isDuplicate()).isFalse();
        assertThat(retry.isDuplicate()).isTrue();
        assertThat(retry.getSeqno()).isEqualTo(first.getSeqno());
        // Within the ack wait, so that a redelivery is not counted as a second message.
        assertThat(node.read(5, Duration.ofMillis(500))).hasSize(1);
    }

    @Test
    void node_names_become_distinct_consumer_names() {
        assertThat(MessageLog.consumerName("host:1883")).isEqualTo("node-host_3A1883");
        assertThat(MessageLog.consumerName("host_1883")).isEqualTo("node-host_5F1883");
        assertThat(MessageLog.consumerName("a.b")).isEqualTo("node-a_2Eb");
    }

    /** Reads until {@code expected} messages came or nothing more comes within a second. */
    private static List<Message> read(MessageLog log, int expected) throws Exception {
        List<Message> all = new ArrayList<>();
        while (all.size() < expected) {
            List<Message> batch = log.read(expected - all.size() + 1, Duration.ofSeconds(1));
            if (batch.isEmpty()) {
                break;
            }
            all.addAll(batch);
        }
        return all;
    }

    private static byte[] body(int i) {
        return ("m" + i).getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> bodies(int n) {
        List<String> b = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            b.add("m" + i);
        }
        return b;
    }
}
