package io.stratus.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.cluster.NatsServer;
import io.stratus.it.CrashConsistencyIT.Login;
import io.stratus.store.PostgresServer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A persistent QoS 1 subscriber moving between three node processes (docs/cluster.md, "Handovers"): what was published
 * while its node was dead and before it reconnected elsewhere reaches it on its new node, whether the dead node came
 * back within its lease or a survivor adopted it; and a live move under a steady stream of publishes loses nothing.
 */
class ClusterHandoverIT {
    private static final int LEASE_SECONDS = 4;

    @TempDir
    Path dir;

    @Test
    void a_persistent_subscriber_misses_nothing_across_node_kills_and_moves() throws Exception {
        try (NatsServer nats = NatsServer.start();
             StratusCluster nodes = StratusCluster.of(dir, 3, PostgresServer.get().createDatabase(), nats.url(),
                     Map.of("cluster.lease-seconds", String.valueOf(LEASE_SECONDS)))) {
            ServerProcess node1 = nodes.start(1);
            String[] pd = node1.createProductAndDevice("handover", "sn-sub");
            Login subscriber = new Login(pd[2], pd[0], "sn-sub");
            Login publisher = new Login(node1.createDevice(pd[1], "publisher", "sn-pub"), pd[0], "sn-pub");
            nodes.startAll();
            Set<Integer> received = ConcurrentHashMap.newKeySet();
            AtomicInteger deliveries = new AtomicInteger();
            MqttClient sub = subscribe(nodes.node(3), subscriber, received, deliveries);
            sub.subscribe("h/#", 1);
            MqttClient pub = CrashConsistencyIT.connect(nodes.node(1), publisher, true);
            AtomicInteger next = new AtomicInteger();

            // 1. The subscriber's node dies and comes back within its lease: it reads its own consumer again.
            nodes.kill(3);
            ClusterFaultsIT.abandon(sub);
            publish(pub, next, 20);
            sub = subscribe(nodes.node(2), subscriber, received, deliveries);
            publish(pub, next, 20);
            nodes.restart(3);
            awaitAll(received, next.get(), 20);
            assertThat(missing(received, next.get())).as("lost across a kill and a restart within the lease").isEmpty();

            // 2. The subscriber's node dies and stays away: a survivor adopts it and drains its consumer.
            nodes.kill(2);
            ClusterFaultsIT.abandon(sub);
            publish(pub, next, 20);
            sub = subscribe(nodes.node(3), subscriber, received, deliveries);
            publish(pub, next, 20);
            awaitAll(received, next.get(), LEASE_SECONDS * 3 + 10);
            assertThat(missing(received, next.get())).as("lost across a kill and an adoption").isEmpty();
            nodes.restart(2);

            // 3. A live move while messages flow: the old node hands over what its consumer read meanwhile.
            int before = next.get();
            MqttClient[] moving = {sub};
            Thread flow = new Thread(() -> {
                try {
                    publish(pub, next, 300);
                } catch (MqttException e) {
                    throw new IllegalStateException(e);
                }
            });
            flow.start();
            while (next.get() < before + 100) {
                Thread.sleep(5);
            }
            moving[0] = subscribe(nodes.node(1), subscriber, received, deliveries); // node 3 closes the old connection
            flow.join();
            awaitAll(received, next.get(), 20);
            System.out.printf("cluster handovers: %d published, %d received, %d deliveries (duplicates %d)%n", next.get(),
                    received.size(), deliveries.get(), deliveries.get() - received.size());
            assertThat(missing(received, next.get())).as("lost in a live move under load").isEmpty();
            ClusterFaultsIT.abandon(moving[0], pub, sub);
        }
    }

    private static MqttClient subscribe(ServerProcess node, Login login, Set<Integer> received, AtomicInteger deliveries)
            throws MqttException {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + node.mqttPort(), login.deviceId(),
                new org.eclipse.paho.client.mqttv3.persist.MemoryPersistence());
        c.setTimeToWait(10_000);
        c.setCallback(new org.eclipse.paho.client.mqttv3.MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, org.eclipse.paho.client.mqttv3.MqttMessage message) {
                received.add(Integer.parseInt(new String(message.getPayload(), UTF_8)));
                deliveries.incrementAndGet();
            }

            @Override
            public void deliveryComplete(org.eclipse.paho.client.mqttv3.IMqttDeliveryToken token) {
            }
        });
        c.connect(CrashConsistencyIT.options(login, false));
        return c;
    }

    private static void publish(MqttClient pub, AtomicInteger next, int count) throws MqttException {
        for (int i = 0; i < count; i++) {
            int n = next.get();
            pub.publish("h/" + (n % 7), String.valueOf(n).getBytes(UTF_8), 1, false);
            next.incrementAndGet();
        }
    }

    private static java.util.List<Integer> missing(Set<Integer> received, int published) {
        return java.util.stream.IntStream.range(0, published).filter(i -> !received.contains(i)).boxed().toList();
    }

    private static void awaitAll(Set<Integer> received, int count, int seconds) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (received.size() < count && System.nanoTime() < until) {
            Thread.sleep(50);
        }
    }
}
