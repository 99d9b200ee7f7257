package io.stratus.e2e;

import static io.stratus.e2e.Clients.connect;
import static io.stratus.e2e.Clients.hivemq;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One connection per client id across two nodes on one PostgreSQL database: takeovers and races of CONNECTs. */
class ClusterTakeoverTest {
    private TwoNodes cluster;
    private TestPlatform node1;
    private TestPlatform node2;
    private TestDevice device;
    private TestProduct product;

    @BeforeEach
    void start() throws Exception {
        cluster = TwoNodes.start();
        node1 = cluster.node1();
        node2 = cluster.node2();
        product = node1.createProduct("takeover");
        device = node1.createDevice(product, "d", "sn-takeover");
    }

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void connecting_on_another_node_closes_the_old_connection_within_a_second() throws Exception {
        Mqtt3BlockingClient first = hivemq(node1, device);
        connect(first, true);
        Mqtt3BlockingClient second = hivemq(node2, device);

        connect(second, true);
        long connAcked = System.nanoTime();
        while (first.getState().isConnected() && System.nanoTime() - connAcked < TimeUnit.SECONDS.toNanos(3)) {
            Thread.sleep(5);
        }
        long closedAfterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - connAcked);

        assertThat(first.getState().isConnected()).as("the connection on node 1").isFalse();
        assertThat(closedAfterMillis).as("ms from node 2's CONNACK until node 1 closed").isLessThan(1_000);
        assertThat(second.getState().isConnected()).isTrue();
        assertThat(node2.metric("stratus_cluster_takeovers_sent_total")).isEqualTo(1);
        assertThat(node1.metric("stratus_cluster_takeovers_closed_here_total")).isEqualTo(1);

        connect(hivemq(node1, device), true); // and back: node 2 closes its own
        long back = System.nanoTime();
        while (second.getState().isConnected() && System.nanoTime() - back < TimeUnit.SECONDS.toNanos(3)) {
            Thread.sleep(5);
        }
        assertThat(second.getState().isConnected()).isFalse();
    }

    @Test
    void a_client_that_left_cleanly_can_come_back_to_a_node_it_was_taken_from() {
        Mqtt3BlockingClient first = hivemq(node1, device);
        connect(first, true);
        Mqtt3BlockingClient second = hivemq(node2, device);
        connect(second, true); // node 1 now remembers node 2's newer claim
        second.disconnect(); // a clean session: its claim's row goes

        Mqtt3BlockingClient back = hivemq(node1, device);
        connect(back, true);
        assertThat(back.getState().isConnected()).as("back on node 1").isTrue();
        back.disconnect();
    }

    @Test
    void a_connection_whose_node_stopped_does_not_hold_up_the_next_connack() {
        connect(hivemq(node1, device), false); // a persistent session keeps its claim when its connection ends
        node1.close();
        node1 = null;

        long started = System.nanoTime();
        connect(hivemq(node2, device), true);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

        assertThat(millis).as("CONNACK after the old owner's node stopped, ms").isLessThan(1_000);
        // Either the claim found node 1 gone, or node 2 had adopted node 1's client ids already.
        assertThat(node2.metric("stratus_cluster_takeovers_owner_gone_total") + node2.metric("stratus_cluster_adopted_total"))
                .isGreaterThanOrEqualTo(1);
    }

    @Test
    void a_persistent_session_moves_with_its_client_to_another_node_with_what_it_was_owed() throws Exception {
        TestDevice publisher = node1.createDevice(product, "publisher", "sn-publisher");
        Mqtt3BlockingClient first = hivemq(node1, device);
        connect(first, false);
        first.subscribeWith().topicFilter("m/#").qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE).send();
        first.disconnect();
        Mqtt3BlockingClient pub = hivemq(node2, publisher);
        connect(pub, true);
        for (int i = 0; i < 20; i++) {
            pub.publishWith().topic("m/" + i).qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE)
                    .payload(("before " + i).getBytes()).send();
        }
        long deadline = System.nanoTime() + 5_000_000_000L; // node 1 reads them from the stream, queues them for the session
        while (node1.metric("stratus_cluster_log_received_total") < 20 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }

        Mqtt3BlockingClient moved = hivemq(node2, device);
        try (var got = moved.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL)) {
            assertThat(connect(moved, false).isSessionPresent()).as("session present on node 2").isTrue();
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                texts.add(Clients.text(Clients.next(got)));
            }
            assertThat(texts).containsExactlyInAnyOrderElementsOf(
                    java.util.stream.IntStream.range(0, 20).mapToObj(i -> "before " + i).toList());
            Mqtt3BlockingClient pub1 = hivemq(node1, node1.createDevice(product, "publisher-1", "sn-publisher-1"));
            connect(pub1, true);
            pub1.publishWith().topic("m/after").qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE)
                    .payload("after".getBytes()).send();
            assertThat(Clients.text(Clients.next(got))).as("its subscription lives on node 2 now").isEqualTo("after");
            assertThat(got.receive(500, TimeUnit.MILLISECONDS)).as("nothing twice").isEmpty();
        }
        node1.restart(); // restores only the sessions it holds: not the one that moved
        assertThat(node1.platform().broker().sessionCount()).isZero();
    }

    @Test
    void a_survivor_adopts_the_persistent_sessions_of_a_node_that_stopped_and_queues_for_them() throws Exception {
        Mqtt3BlockingClient sleeper = hivemq(node1, device);
        connect(sleeper, false);
        sleeper.subscribeWith().topicFilter("news").qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE).send();
        sleeper.disconnect();
        node1.close();
        node1 = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (node2.metric("stratus_cluster_adopted_total") < 1 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(node2.metric("stratus_cluster_adopted_total")).isGreaterThanOrEqualTo(1);

        Mqtt3BlockingClient pub = hivemq(node2, node2.createDevice(product, "publisher", "sn-publisher"));
        connect(pub, true);
        for (int i = 0; i < 10; i++) {
            pub.publishWith().topic("news").qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE)
                    .payload(("n" + i).getBytes()).send();
        }
        Mqtt3BlockingClient back = hivemq(node2, device);
        try (var got = back.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL)) {
            assertThat(connect(back, false).isSessionPresent()).isTrue();
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                texts.add(Clients.text(Clients.next(got)));
            }
            assertThat(texts).containsExactly("n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9");
        }
    }

    @Test
    void of_100_racing_connects_of_one_client_id_on_two_nodes_exactly_one_stays() throws Exception {
        List<Mqtt3AsyncClient> clients = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            clients.add(hivemq(i % 2 == 0 ? node1 : node2, device).toAsync());
        }
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<?>> connects = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (Mqtt3AsyncClient c : clients) {
            CompletableFuture<Object> done = new CompletableFuture<>();
            connects.add(done);
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    c.connectWith().cleanSession(true).keepAlive(30).send()
                            .whenComplete((ack, failed) -> done.complete(failed == null ? ack : failed));
                } catch (InterruptedException e) {
                    done.complete(e);
                }
            });
            t.start();
            threads.add(t);
        }
        go.countDown();
        CompletableFuture.allOf(connects.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        for (Thread t : threads) {
            t.join();
        }

        long connected = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        do { // the losers' connections close a moment after their CONNACK at most
            Thread.sleep(200);
            connected = clients.stream().filter(c -> c.getState().isConnected()).count();
        } while (connected > 1 && System.nanoTime() < deadline);
        Thread.sleep(500);
        connected = clients.stream().filter(c -> c.getState().isConnected()).count();

        StringBuilder which = new StringBuilder();
        for (int i = 0; i < clients.size(); i++) {
            if (clients.get(i).getState().isConnected()) {
                which.append(i).append(i % 2 == 0 ? "@node1 " : "@node2 ");
            }
        }
        assertThat(connected).as("connections left of 100 racing CONNECTs: " + which).isEqualTo(1);
        assertThat(node1.platform().broker().sessionCount() + node2.platform().broker().sessionCount()).isEqualTo(1);
        assertThat(node1.metric("stratus_cluster_client_claims_total") + node2.metric("stratus_cluster_client_claims_total"))
                .isEqualTo(100);
        clients.forEach(c -> c.disconnect());
    }

}
