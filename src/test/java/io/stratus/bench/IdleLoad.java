package io.stratus.bench;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scenario d: many idle connections, each with keep-alive and one subscription. Measures the connect rate
 * and the server's resident memory per connection (growth of VmRSS from /proc, read by the caller). A
 * warm-up round of connections comes and goes first, so that code the server compiles or loads on its
 * first connections is not counted per connection. Client sockets are spread over several 127.0.0.x
 * source addresses so that connect() does not slow down as one address runs short of ephemeral ports.
 */
final class IdleLoad {
    record Params(int connections, int sourceAddresses, int concurrency, int keepAliveSeconds, Duration hold,
                  int warmupConnections) {
        /** The same with {@code n} connections and no warm-up round. */
        Params measuring(int n) {
            return new Params(n, sourceAddresses, concurrency, keepAliveSeconds, hold, 0);
        }
    }

    /** A round's JIT compilers below this share of one core: the process's code is compiled for the load. */
    static final double QUIET_COMPILERS = 0.05;

    /**
     * @param connectsPerSecond connections over the time from the first connect() to the last CONNACK
     * @param held              connections still open at the end of the hold
     * @param connectLatency    from connect() to CONNACK, per connection
     * @param serverCpuMicrosPerConnection CPU time the server used while the connections came up (connect to SUBACK),
     *                                     per connection; NaN without a server process to read
     * @param clientCpuMicrosPerConnection the same for the load tool's process
     */
    record Outcome(int connected, int failed, double connectsPerSecond, double secondsToAllSubscribed,
                   long rssBeforeKb, long rssAfterKb, int held, Latencies.Summary connectLatency,
                   double serverCpuMicrosPerConnection, double clientCpuMicrosPerConnection) {
        double bytesPerConnection() {
            return connected == 0 ? Double.NaN : (rssAfterKb - rssBeforeKb) * 1024.0 / connected;
        }
    }

    /** Connections of one round and how they came up. */
    private record Round(List<LoadConnection> open, int connected, int failed, long firstConnect, long lastConnack,
                         long allSubscribed, Latencies.Summary connectLatency) {}

    private IdleLoad() {
    }

    /**
     * What {@link #settle} did: its rounds, the connections they made, how long they took, and the share of one core
     * the server's JIT compilers used in the last round.
     */
    record Settled(int rounds, int connections, double seconds, double compilerShare) {}

    /**
     * Rounds of {@code p.connections()} connections that come and go until the server's JIT compiler threads used less
     * than {@link #QUIET_COMPILERS} of one core during a round, or until {@code cap} has passed: a JVM's code is then compiled
     * for this load, as on a server that has run for a while. A server without a JIT (Mosquitto) stops after one round.
     */
    static Settled settle(LoadClient client, Params p, long serverPid, Duration cap) {
        InetAddress[] sources = LoadClient.loopbackAddresses(p.sourceAddresses());
        long t0 = System.nanoTime();
        int rounds = 0;
        int connections = 0;
        double share;
        do {
            long compiler0 = ServerProcess.compilerCpuNanos(serverPid);
            long r0 = System.nanoTime();
            Round r = connectAll(client, p, p.connections(), sources, "settle-" + rounds + "-" + (r0 % 1_000_000));
            LoadConnection.disconnectAll(r.open(), 60);
            share = (ServerProcess.compilerCpuNanos(serverPid) - compiler0) / (double) (System.nanoTime() - r0);
            rounds++;
            connections += r.connected();
        } while (share >= QUIET_COMPILERS && System.nanoTime() - t0 < cap.toNanos());
        RoutingLoad.pause(Duration.ofSeconds(1));
        return new Settled(rounds, connections, (System.nanoTime() - t0) / 1e9, share);
    }

    /**
     * Compiles the load tool's own code before a scenario's first run ({@link #settle} on this process), against a
     * throwaway server {@code client} is connected to, so that the first target measured does not share the cores with
     * the tool's JIT while the others do not.
     */
    static void warmTool(LoadClient client, Params p, Duration cap, String what) {
        Settled w = settle(client, p, ProcessHandle.current().pid(), cap);
        Compare.log(String.format(Locale.ROOT, "the load tool's JIT settled after %,d connections to %s, %.0f s",
                w.connections(), what, w.seconds()));
    }

    /** Runs the scenario against the server process {@code serverPid} (0: none to read, RSS and server CPU are 0/NaN). */
    static Outcome run(LoadClient client, Params p, long serverPid) {
        InetAddress[] sources = LoadClient.loopbackAddresses(p.sourceAddresses());
        String run = Long.toString(System.nanoTime() % 1_000_000, 36);
        if (p.warmupConnections() > 0) {
            LoadConnection.disconnectAll(connectAll(client, p, p.warmupConnections(), sources, "warm-" + run).open(), 60);
            RoutingLoad.pause(Duration.ofSeconds(1));
        }
        Compare.log("measuring " + p.connections() + " connections"); // a profiler attached now sees only these
        long rssBefore = serverPid == 0 ? 0 : ServerProcess.rssKb(serverPid);
        long serverCpu0 = serverPid == 0 ? 0 : ServerProcess.cpuNanos(serverPid);
        long clientCpu0 = ServerProcess.cpuNanos(ProcessHandle.current().pid());
        Round r = connectAll(client, p, p.connections(), sources, "idle-" + run);
        double serverCpu = serverPid == 0 ? Double.NaN : (ServerProcess.cpuNanos(serverPid) - serverCpu0) / 1e3 / r.connected();
        double clientCpu = (ServerProcess.cpuNanos(ProcessHandle.current().pid()) - clientCpu0) / 1e3 / r.connected();
        RoutingLoad.pause(p.hold());
        long rssAfter = serverPid == 0 ? 0 : ServerProcess.rssKb(serverPid);
        int held = (int) r.open().stream().filter(LoadConnection::isOpen).count();
        Outcome outcome = new Outcome(r.connected(), r.failed(), r.connected() / ((r.lastConnack() - r.firstConnect()) / 1e9),
                (r.allSubscribed() - r.firstConnect()) / 1e9, rssBefore, rssAfter, held, r.connectLatency(), serverCpu, clientCpu);
        LoadConnection.disconnectAll(r.open(), 60);
        return outcome;
    }

    /**
     * Opens {@code n} connections, {@code concurrency} chains at a time ({@link LoadClient#inChains}), each subscribing
     * to its own topic.
     */
    private static Round connectAll(LoadClient client, Params p, int n, InetAddress[] sources, String prefix) {
        LoadConnection.Handler idle = new LoadConnection.Handler() {
        };
        AtomicInteger connected = new AtomicInteger();
        AtomicLong lastConnack = new AtomicLong();
        Latencies connectLatency = new Latencies(n);
        List<LoadConnection> open = Collections.synchronizedList(new ArrayList<>(n));
        long t0 = System.nanoTime();
        int failed = LoadClient.inChains(n, p.concurrency(), t0 + TimeUnit.SECONDS.toNanos(120), i -> {
            long started = System.nanoTime();
            return client.connect(LoadConnection.Login.anonymous(prefix + "-" + i), p.keepAliveSeconds(), idle,
                            sources[i % sources.length], LoadClient.currentLoop())
                    .thenCompose(c -> {
                        connected.incrementAndGet();
                        long connack = System.nanoTime();
                        connectLatency.record(connack - started);
                        lastConnack.accumulateAndGet(connack, Math::max);
                        open.add(c);
                        return c.subscribe("bench/idle/" + i, 1);
                    });
        });
        long allSubscribed = System.nanoTime();
        synchronized (open) {
            return new Round(List.copyOf(open), connected.get(), failed, t0, lastConnack.get(), allSubscribed,
                    connectLatency.summary());
        }
    }
}
