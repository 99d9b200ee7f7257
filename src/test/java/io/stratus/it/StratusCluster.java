package io.stratus.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Stratus nodes as child processes of the packaged jar ({@link ServerProcess}), numbered 1 to N and named
 * {@code node-1} to {@code node-N} ({@code cluster.node-name}), on one PostgreSQL database ({@code store.url}) and one
 * set of NATS servers ({@code cluster.nats-url}), each with its own data directory and free ports. Nothing starts
 * until {@link #start(int)} or {@link #startAll}: a device made on one node is found by the nodes started after it
 * (docs/cluster.md), so a test creates its devices on node 1 before it starts the others.
 */
final class StratusCluster implements AutoCloseable {
    static final int DEFAULT_NODES = 3;
    private static final String HEAP = "160m";

    private final Path dir;
    private final Map<String, String> settings;
    private final ServerProcess[] nodes;

    private StratusCluster(Path dir, int size, Map<String, String> settings) {
        this.dir = dir;
        this.settings = settings;
        this.nodes = new ServerProcess[size];
    }

    /** {@link #DEFAULT_NODES} nodes, none started yet. */
    static StratusCluster of(Path dir, String storeUrl, String natsUrls) {
        return of(dir, DEFAULT_NODES, storeUrl, natsUrls, Map.of());
    }

    /**
     * {@code size} nodes, none started yet, with their data directories under {@code dir}; {@code extra} are more
     * settings (dotted keys) for every node.
     */
    static StratusCluster of(Path dir, int size, String storeUrl, String natsUrls, Map<String, String> extra) {
        Map<String, String> settings = new HashMap<>(extra);
        settings.put("store.url", storeUrl);
        settings.put("cluster.nats-url", natsUrls);
        return new StratusCluster(dir, size, Map.copyOf(settings));
    }

    int size() {
        return nodes.length;
    }

    static String name(int i) {
        return "node-" + i;
    }

    /** Starts node {@code i} and returns once it logged that it is ready. */
    ServerProcess start(int i) throws IOException {
        int k = check(i);
        if (nodes[k] != null) {
            throw new IllegalStateException(name(i) + " was started already: restart it instead");
        }
        Map<String, String> own = new HashMap<>(settings);
        own.put("cluster.node-name", name(i));
        nodes[k] = ServerProcess.start(Files.createDirectories(dir.resolve(name(i))), HEAP, own);
        return nodes[k];
    }

    /** Starts every node not started yet, side by side, and returns once all are ready. */
    void startAll() throws IOException {
        List<CompletableFuture<ServerProcess>> starting = new ArrayList<>();
        for (int i = 1; i <= nodes.length; i++) {
            if (nodes[i - 1] == null) {
                int n = i;
                starting.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return start(n);
                    } catch (IOException e) {
                        throw new CompletionException(e);
                    }
                }, StratusCluster::ownThread)); // not the common pool: on 2 cores it runs one task at a time
            }
        }
        try {
            CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new)).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw e;
        }
    }

    private static void ownThread(Runnable work) {
        Thread t = new Thread(work, "stratus-cluster-start");
        t.setDaemon(true);
        t.start();
    }

    /** Node {@code i}'s process; it must have been started. */
    ServerProcess node(int i) {
        ServerProcess node = nodes[check(i)];
        if (node == null) {
            throw new IllegalStateException(name(i) + " was not started");
        }
        return node;
    }

    /** SIGKILL to node {@code i}; returns once it has exited. */
    void kill(int i) throws InterruptedException {
        node(i).kill();
    }

    /** SIGSTOP to node {@code i}: its sockets stay open and nothing answers until {@link #cont}. */
    void stop(int i) throws IOException, InterruptedException {
        NatsCluster.signal(node(i).pid(), "STOP");
    }

    /** SIGCONT to node {@code i}. */
    void cont(int i) throws IOException, InterruptedException {
        NatsCluster.signal(node(i).pid(), "CONT");
    }

    /** Starts node {@code i} again on its data directory and settings (SIGKILL first if it still runs); new ports. */
    ServerProcess restart(int i) throws IOException, InterruptedException {
        ServerProcess node = node(i);
        if (node.isAlive()) {
            node.kill();
        }
        node.restart();
        return node;
    }

    private int check(int i) {
        if (i < 1 || i > nodes.length) {
            throw new IllegalArgumentException("nodes are numbered 1 to " + nodes.length + ", not " + i);
        }
        return i - 1;
    }

    /** SIGKILL to every node still running. */
    @Override
    public void close() throws InterruptedException {
        for (ServerProcess node : nodes) {
            if (node != null) {
                node.close();
            }
        }
    }
}
