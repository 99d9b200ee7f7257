package io.stratus.bench;

import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Scenarios a (fan-in), b (point to point) and c (fan-out): publishers, a broker, subscribers, all on
 * 127.0.0.1. Each message carries its send time, its publisher and a sequence number in its first 16 bytes.
 *
 * <p>Two ways to offer load: closed loop (each publisher keeps at most {@code window} messages not yet
 * delivered to every subscriber, so queues stay bounded and nothing is dropped: the rate is what the broker
 * can route), or a fixed total rate (the same offered load for every broker: the latency to compare).
 * Every phase is bounded in time; nothing waits without a deadline.
 */
final class RoutingLoad {
    enum Shape { FAN_IN, POINT_TO_POINT, FAN_OUT }

    /**
     * @param rate messages/s over all publishers; 0 for closed loop
     */
    record Params(Shape shape, int publishers, int subscribers, int qos, int payloadBytes, int window, double rate,
                  Duration warmup, Duration measure) {
        Params {
            if (payloadBytes < 16) {
                throw new IllegalArgumentException("payload must be at least 16 bytes");
            }
            if (window < 2) {
                throw new IllegalArgumentException("window must be at least 2");
            }
        }
    }

    /**
     * Deliveries per second during the measurement, latency of those deliveries, what never arrived, and the CPU
     * time the server and the load tool used per delivery (NaN when the server's pid is unknown).
     */
    record Outcome(double deliveriesPerSecond, Latencies.Summary latency, long sent, long lost, long notOffered,
                   double serverCpuMicrosPerDelivery, double clientCpuMicrosPerDelivery) {}

    /** In fixed-rate mode a publisher never has more than this many deliveries outstanding. */
    private static final int FIXED_RATE_CAP = 20_000;
    private static final int MAX_BATCH = 256;

    private final Params p;
    private final List<Flow> flows = new ArrayList<>();
    private final List<LoadConnection> connections = new ArrayList<>();
    private volatile Flow[] byIndex = new Flow[0];
    private final LongAdder delivered = new LongAdder();
    private final Latencies latencies;
    private final int perMessage;
    private volatile boolean measuring;

    private RoutingLoad(Params p) {
        this.p = p;
        this.perMessage = p.shape() == Shape.FAN_OUT ? p.subscribers() : 1;
        this.latencies = new Latencies(8_000_000);
    }

    /** Runs one phase; {@code serverPid} (0 if unknown) is read for the server's CPU time. */
    static Outcome run(LoadClient client, Params p, long serverPid) {
        RoutingLoad load = new RoutingLoad(p);
        try {
            return load.run(client, serverPid);
        } finally {
            load.disconnect();
        }
    }

    private Outcome run(LoadClient client, long serverPid) {
        String run = Long.toString(System.nanoTime() % 1_000_000, 36);
        LoadConnection.Handler sink = new LoadConnection.Handler() {
            @Override
            public void published(LoadConnection c, ByteBuf payload, int qos) {
                long stamp = payload.getLong(payload.readerIndex());
                int source = payload.getInt(payload.readerIndex() + 8);
                if (measuring) {
                    delivered.increment();
                    latencies.record(System.nanoTime() - stamp);
                }
                byIndex[source].delivered();
            }
        };
        int subscribers = p.shape() == Shape.POINT_TO_POINT ? p.publishers() : p.subscribers();
        List<CompletableFuture<Void>> ready = new ArrayList<>();
        for (int i = 0; i < subscribers; i++) {
            String filter = switch (p.shape()) {
                case FAN_IN -> "bench/in/+";
                case POINT_TO_POINT -> "bench/p2p/" + i;
                case FAN_OUT -> "bench/out";
            };
            ready.add(client.connect(LoadConnection.Login.anonymous("sub-" + run + "-" + i), 60, sink)
                    .thenCompose(c -> {
                        synchronized (connections) {
                            connections.add(c);
                        }
                        return c.subscribe(filter, p.qos());
                    }));
        }
        await(ready, "subscribers");
        ready.clear();
        for (int i = 0; i < p.publishers(); i++) {
            String topic = switch (p.shape()) {
                case FAN_IN -> "bench/in/" + i;
                case POINT_TO_POINT -> "bench/p2p/" + i;
                case FAN_OUT -> "bench/out";
            };
            Flow flow = new Flow(i, topic.getBytes(StandardCharsets.UTF_8));
            flows.add(flow);
            ready.add(client.connect(LoadConnection.Login.anonymous("pub-" + run + "-" + i), 60, flow).thenAccept(c -> {
                flow.conn = c;
                synchronized (connections) {
                    connections.add(c);
                }
            }));
        }
        await(ready, "publishers");
        byIndex = flows.toArray(Flow[]::new);

        long started = System.nanoTime();
        for (Flow f : flows) {
            f.conn.loop().execute(() -> f.start(started));
        }
        pause(p.warmup());
        latencies.reset();
        delivered.reset();
        long serverCpu0 = serverPid == 0 ? 0 : ServerProcess.cpuNanos(serverPid);
        long clientCpu0 = ServerProcess.cpuNanos(ProcessHandle.current().pid());
        measuring = true;
        long t0 = System.nanoTime();
        pause(p.measure());
        measuring = false;
        long t1 = System.nanoTime();
        long count = delivered.sum();
        double serverCpu = serverPid == 0 ? Double.NaN : (ServerProcess.cpuNanos(serverPid) - serverCpu0) / 1e3 / count;
        double clientCpu = (ServerProcess.cpuNanos(ProcessHandle.current().pid()) - clientCpu0) / 1e3 / count;
        for (Flow f : flows) {
            f.running = false;
        }
        // Let what is on its way arrive; a broker that dropped something leaves it outstanding.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (outstanding() > 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        long sent = 0;
        long notOffered = 0;
        for (Flow f : flows) {
            sent += f.sent;
            notOffered += f.notOffered;
        }
        return new Outcome(count / ((t1 - t0) / 1e9), latencies.summary(), sent, outstanding(), notOffered, serverCpu, clientCpu);
    }

    private long outstanding() {
        long n = 0;
        for (Flow f : flows) {
            n += f.outstanding.get();
        }
        return n;
    }

    private void disconnect() {
        synchronized (connections) {
            LoadConnection.disconnectAll(List.copyOf(connections), 10);
        }
    }

    static void await(List<? extends CompletableFuture<?>> futures, String what) {
        try {
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("connecting " + what + " failed: " + e, e);
        }
    }

    static void pause(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        long left;
        while ((left = end - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }

    /** One publisher. Everything but {@link #delivered} runs on its connection's event loop. */
    private final class Flow implements LoadConnection.Handler {
        final int index;
        final byte[] topic;
        final AtomicInteger outstanding = new AtomicInteger();
        final int windowDeliveries;
        LoadConnection conn;
        volatile boolean running;
        volatile long sent;
        volatile long notOffered;
        int pubacksPending;
        int nextId;
        int seq;
        long startNanos;
        long scheduled;

        Flow(int index, byte[] topic) {
            this.index = index;
            this.topic = topic;
            this.windowDeliveries = p.window() * perMessage;
        }

        void start(long started) {
            running = true;
            startNanos = started;
            if (p.rate() > 0) {
                conn.loop().scheduleAtFixedRate(this::tick, 0, 1, TimeUnit.MILLISECONDS);
            } else {
                pump();
            }
        }

        /** Closed loop: send while the window has room. */
        void pump() {
            int batch = 0;
            while (running && batch < MAX_BATCH && outstanding.get() + perMessage <= windowDeliveries
                    && pubacksPending < p.window() && conn.isWritable()) {
                send();
                batch++;
            }
            if (batch > 0) {
                conn.flush();
                if (batch == MAX_BATCH) {
                    conn.loop().execute(this::pump);
                }
            }
        }

        /** Fixed rate: send what is due by now. */
        void tick() {
            if (!running) {
                return;
            }
            long due = (long) ((System.nanoTime() - startNanos) / 1e9 * p.rate() / p.publishers());
            int n = 0;
            while (scheduled < due) {
                scheduled++;
                if (outstanding.get() >= FIXED_RATE_CAP || pubacksPending >= 30_000 || !conn.isOpen()) {
                    notOffered++;
                    continue;
                }
                send();
                n++;
            }
            if (n > 0) {
                conn.flush();
            }
        }

        private void send() {
            int id = 0;
            if (p.qos() > 0) {
                nextId = nextId % 65535 + 1;
                id = nextId;
                pubacksPending++;
            }
            outstanding.addAndGet(perMessage);
            conn.publishStamped(topic, p.qos(), id, index, seq++, p.payloadBytes());
            sent++;
        }

        /** A subscriber received one of this publisher's messages (any thread). */
        void delivered() {
            int left = outstanding.decrementAndGet();
            if (p.rate() == 0 && left == windowDeliveries / 2) {
                conn.loop().execute(this::pump);
            }
        }

        @Override
        public void acked(LoadConnection c, int packetId) {
            pubacksPending--;
            if (p.rate() == 0 && pubacksPending == p.window() / 2) {
                pump();
            }
        }

        @Override
        public void writable(LoadConnection c) {
            if (p.rate() == 0) {
                pump();
            }
        }
    }
}
