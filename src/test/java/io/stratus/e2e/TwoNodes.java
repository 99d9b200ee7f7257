package io.stratus.e2e;

import io.stratus.cluster.NatsServer;
import io.stratus.store.PostgresServer;
import java.nio.file.Files;
import java.util.Map;

/**
 * Two Stratus nodes in cluster mode, in this JVM, on a fresh database of the tests' PostgreSQL server and a nats-server
 * of their own, named node1 and node2; {@link #close} stops what is still running, in reverse order.
 */
public final class TwoNodes implements AutoCloseable {
    private final NatsServer nats;
    private final TestPlatform node1;
    private final TestPlatform node2;

    private TwoNodes(NatsServer nats, TestPlatform node1, TestPlatform node2) {
        this.nats = nats;
        this.node1 = node1;
        this.node2 = node2;
    }

    public static TwoNodes start() throws Exception {
        NatsServer nats = NatsServer.start();
        String store = PostgresServer.get().createDatabase();
        TestPlatform node1 = TestPlatform.start(Files.createTempDirectory("stratus-node1"), settings(store, nats, "node1"));
        TestPlatform node2 = TestPlatform.start(Files.createTempDirectory("stratus-node2"), settings(store, nats, "node2"));
        return new TwoNodes(nats, node1, node2);
    }

    public TestPlatform node1() {
        return node1;
    }

    public TestPlatform node2() {
        return node2;
    }

    public NatsServer nats() {
        return nats;
    }

    private static Map<String, String> settings(String store, NatsServer nats, String name) {
        return Map.of("store.url", store, "cluster.nats-url", nats.url(), "cluster.node-name", name);
    }

    @Override
    public void close() {
        for (AutoCloseable part : new AutoCloseable[] {node2, node1, nats}) {
            try {
                part.close(); // a node a test stopped already: closing it again does nothing
            } catch (Exception e) {
                // the next part still stops
            }
        }
    }
}
