package io.stratus.bench;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Scenario d: many idle connections, each with keep-alive and one subscription. Measures the connect rate
 * and the server's resident memory per connection (growth of VmRSS from /proc, read by the caller). A
 * warm-up round of connections comes and goes first, so that code the server compiles or loads on its
 * first connections is not counted per connection. Client sockets are spread over several 127.0.0.x
 * source addresses so that connect() does not slow down as one address runs short of ephemeral ports.
 */
final class IdleLoad {
    record Params(int connections, int sourceAddresses, int concurrency, int keepAliveSeconds, Duration hold,
                  int warmupConnections) {}

    /**
     * @param connectsPerSecond connections over the time from the first connect() to the last CONNACK
     * @param held              connections still open at the end of the hold
     */
    record Outcome(int connected, int failed, double connectsPerSecond, double secondsToAllSubscribed,
                   long rssBeforeKb, long rssAfterKb, int held) {
        double bytesPerConnection() {
            return connected == 0 ? Double.NaN : (rssAfterKb - rssBeforeKb) * 1024.0 / connected;
        }
    }

    /** Connections of one round and how they came up. */
    private record Round(List<LoadConnection> open, int connected, int failed, long firstConnect, long lastConnack,
                         long allSubscribed) {}

    private IdleLoad() {
    }

    static Outcome run(LoadClient client, Params p, LongSupplier serverRssKb) {
        InetAddress[] sources = LoadClient.loopbackAddresses(p.sourceAddresses());
        String run = Long.toString(System.nanoTime() % 1_000_000, 36);
        if (p.warmupConnections() > 0) {
            close(connectAll(client, p, p.warmupConnections(), sources, "warm-" + run).open());
            RoutingLoad.pause(Duration.ofSeconds(1));
        }
        long rssBefore = serverRssKb.getAsLong();
        Round r = connectAll(client, p, p.connections(), sources, "idle-" + run);
        RoutingLoad.pause(p.hold());
        long rssAfter = serverRssKb.getAsLong();
        int held = (int) r.open().stream().filter(LoadConnection::isOpen).count();
        Outcome outcome = new Outcome(r.connected(), r.failed(), r.connected() / ((r.lastConnack() - r.firstConnect()) / 1e9),
                (r.allSubscribed() - r.firstConnect()) / 1e9, rssBefore, rssAfter, held);
        close(r.open());
        return outcome;
    }

    /** Opens {@code n} connections, at most {@code concurrency} connecting at once, each subscribing to its own topic. */
    private static Round connectAll(LoadClient client, Params p, int n, InetAddress[] sources, String prefix) {
        LoadConnection.Handler idle = new LoadConnection.Handler() {
        };
        Semaphore slots = new Semaphore(p.concurrency());
        AtomicInteger connected = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicLong lastConnack = new AtomicLong();
        List<LoadConnection> open = new ArrayList<>(n);
        List<CompletableFuture<Void>> subscribed = new ArrayList<>(n);
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(120);
        for (int i = 0; i < n && System.nanoTime() < deadline; i++) {
            try {
                if (!slots.tryAcquire(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("no connection finished within 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            String topic = "bench/idle/" + i;
            CompletableFuture<Void> done = client
                    .connect(LoadConnection.Login.anonymous(prefix + "-" + i), p.keepAliveSeconds(), idle, sources[i % sources.length])
                    .thenCompose(c -> {
                        connected.incrementAndGet();
                        lastConnack.accumulateAndGet(System.nanoTime(), Math::max);
                        synchronized (open) {
                            open.add(c);
                        }
                        return c.subscribe(topic, 1);
                    });
            done.whenComplete((v, e) -> {
                if (e != null) {
                    failed.incrementAndGet();
                }
                slots.release();
            });
            subscribed.add(done);
        }
        try {
            CompletableFuture.allOf(subscribed.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            // counted in failed
        }
        long allSubscribed = System.nanoTime();
        synchronized (open) {
            return new Round(List.copyOf(open), connected.get(), failed.get(), t0, lastConnack.get(), allSubscribed);
        }
    }

    private static void close(List<LoadConnection> open) {
        List<CompletableFuture<Void>> closed = new ArrayList<>();
        open.forEach(c -> closed.add(c.disconnect()));
        try {
            CompletableFuture.allOf(closed.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            // best effort
        }
    }
}
