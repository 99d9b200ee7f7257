package io.stratus.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.nats.client.Connection;
import io.nats.client.Nats;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** QoS 0 between two nodes' buses on a real nats-server. */
class RouteBusTest {
    private static NatsServer server;
    private static Connection nats1;
    private static Connection nats2;
    private final Subjects subjects = new Subjects("stratus");

    /** What a node was handed: product, topic and payload as text. */
    private record Got(long productId, String topic, String payload) {}

    @BeforeAll
    static void startNats() throws Exception {
        server = NatsServer.start();
        nats1 = Nats.connect(server.url());
        nats2 = Nats.connect(server.url());
    }

    @AfterAll
    static void stopNats() throws Exception {
        for (Connection c : new Connection[] {nats1, nats2}) {
            if (c != null) {
                c.close();
            }
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void a_node_gets_the_other_nodes_messages_of_its_products_once_and_never_its_own() throws Exception {
        List<Got> got1 = new CopyOnWriteArrayList<>();
        List<Got> got2 = new CopyOnWriteArrayList<>();
        try (RouteBus node1 = bus(nats1, "n1", got1); RouteBus node2 = bus(nats2, "n2", got2)) {
            node1.interest(7, () -> true);
            node1.interest(7, () -> true); // a second subscription in the product: still one NATS subscription, one copy
            node2.interest(7, () -> true);
            node1.flush(Duration.ofSeconds(5));
            node2.flush(Duration.ofSeconds(5));

            node2.publish(7, "/dev 1/temp.c/中", bytes("21.5"));
            node2.publish(8, "other/product", bytes("x"));
            String longTopic = "a/" + "%".repeat(600); // 1,800 characters escaped: the product's long subject
            node2.publish(7, longTopic, bytes("long"));

            await().atMost(Duration.ofSeconds(5)).until(() -> got1.size() >= 2);
            Thread.sleep(300); // anything more would have come by now
            assertThat(got1).containsExactly(new Got(7, "/dev 1/temp.c/中", "21.5"), new Got(7, longTopic, "long"));
            assertThat(got2).as("a node's own messages are not handed back").isEmpty();
            assertThat(node1.products()).isEqualTo(1);
        }
    }

    @Test
    void when_a_product_has_no_subscriptions_left_its_messages_stop_coming() throws Exception {
        List<Got> got1 = new CopyOnWriteArrayList<>();
        try (RouteBus node1 = bus(nats1, "n1", got1); RouteBus node2 = bus(nats2, "n2", new CopyOnWriteArrayList<>())) {
            node1.interest(3, () -> true);
            node1.flush(Duration.ofSeconds(5));
            node2.publish(3, "still", bytes("1"));
            await().atMost(Duration.ofSeconds(5)).until(() -> got1.size() == 1);

            node1.interest(3, () -> false);
            node1.flush(Duration.ofSeconds(5));
            node2.publish(3, "gone", bytes("2"));
            node2.flush(Duration.ofSeconds(5));
            Thread.sleep(300);

            assertThat(got1).extracting(Got::topic).containsExactly("still");
            assertThat(node1.products()).isZero();
        }
    }

    private RouteBus bus(Connection nats, String node, List<Got> got) {
        return new RouteBus(nats, subjects, node,
                (productId, topic, payload) -> got.add(new Got(productId, topic, new String(payload, StandardCharsets.UTF_8))));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
