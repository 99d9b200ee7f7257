package io.stratus.bench;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;

/**
 * Scenario i, QoS 1 PUBACK latency at a fixed offered load: publishers with one PUBLISH in flight each (the next
 * goes only after the PUBACK of the previous one), paced by the load tool's event loops (a timer per due message, no
 * thread per publisher) so that together they offer a fixed rate. Publisher i publishes to {@code bench/ack/{g}/{i}},
 * g = i % groups, and one subscriber per group reads {@code bench/ack/{g}/+} at QoS 0: the broker routes every
 * message it acknowledges.
 *
 * <p>The latency runs from writing the PUBLISH to reading its PUBACK. A publisher whose PUBACK came after its next
 * message was due sends that message at once, and its latency counts from when it was due, not from its write:
 * otherwise a stalled broker would be judged only by the few messages it let through (coordinated omission). A
 * message that a late timer of the load tool sends late counts from its write, so that the tool's own delays are not
 * the broker's. The messages due during the measurement are the sample, also when their PUBACK comes after it (within
 * a bounded drain); those still without one at the end of the drain count with the time they had waited by then, a
 * lower bound, and are reported.
 */
final class AckLatencyLoad {
    /** @param rate messages/s offered over all publishers */
    record Params(int publishers, int groups, int payloadBytes, double rate, Duration warmup, Duration measure) {}

    /**
     * @param ackedPerSecond PUBACKs read during the measurement, per second
     * @param latency        PUBACK latency of the messages due during the measurement
     * @param late           messages of the measurement sent after they were due because the previous PUBACK was late
     * @param notAcked       messages due during the measurement without a PUBACK at the end of the drain
     * @param notDelivered   acknowledged messages (of the whole run) that no subscriber had read at the end of the drain
     * @param publishersLost publisher connections that closed before the end
     * @param serverCpuMicrosPerMessage CPU time the server used during the measurement per PUBACK; NaN without its pid
     * @param clientCpuMicrosPerMessage the same for the load tool's process
     */
    record Outcome(double ackedPerSecond, Latencies.Summary latency, long sent, long late, long notAcked, long notDelivered,
                   int publishersLost, double serverCpuMicrosPerMessage, double clientCpuMicrosPerMessage) {}

    /** How long the messages due by the end of the measurement may take to be acknowledged and delivered. */
    private static final Duration DRAIN = Duration.ofSeconds(5);

    private final Params p;
    private final double intervalNanos;
    private final byte[] payload;
    private final Latencies latencies;
    private final List<Publisher> publishers = new ArrayList<>();
    private final List<LoadConnection> connections = new ArrayList<>();
    private final LongAdder delivered = new LongAdder();
    private final LongAdder ackedAll = new LongAdder();
    private final LongAdder ackedMeasured = new LongAdder();
    private final AtomicInteger done = new AtomicInteger();
    private volatile boolean closing;
    /** The measurement: messages due in [measureFrom, measureTo) are the sample; none is due from measureTo on. */
    private long measureFrom;
    private long measureTo;

    private AckLatencyLoad(Params p) {
        this.p = p;
        this.intervalNanos = 1e9 * p.publishers() / p.rate();
        this.payload = new byte[p.payloadBytes()];
        this.latencies = new Latencies((int) Math.min(50_000_000, p.rate() * p.measure().toMillis() / 1000.0 + 2L * p.publishers()));
    }

    /**
     * Runs the scenario at {@code p.rate()}. Connection k logs in as {@code logins.apply(k)}: the {@code groups}
     * subscribers first, then the publishers ({@link #logins}). {@code serverPid} (0 if unknown) is read for the
     * server's CPU time.
     */
    static Outcome run(LoadClient client, Params p, IntFunction<LoadConnection.Login> logins, long serverPid) {
        AckLatencyLoad load = new AckLatencyLoad(p);
        try {
            return load.run(client, logins, serverPid);
        } finally {
            load.disconnect();
        }
    }

    /**
     * Logins for {@code p}'s connections, for one run or several in turn: with {@code http} (Stratus) devices of a new
     * product, made through its API; without (null), anonymous clients.
     */
    static IntFunction<LoadConnection.Login> logins(Params p, StratusHttp http, String adminPassword) {
        if (http == null) {
            String run = Long.toString(System.nanoTime() % 1_000_000, 36);
            return k -> LoadConnection.Login.anonymous("ack-" + run + "-" + k);
        }
        StratusHttp.Product product = http.createProduct(adminPassword, "bench-ack-" + System.nanoTime());
        List<LoadConnection.Login> logins = new ArrayList<>();
        for (int k = 0; k < p.groups() + p.publishers(); k++) {
            logins.add(http.deviceLogin(product, "ack-" + k, "SN-ACK-" + k));
        }
        return logins::get;
    }

    private Outcome run(LoadClient client, IntFunction<LoadConnection.Login> logins, long serverPid) {
        LoadConnection.Handler reader = new LoadConnection.Handler() {
            @Override
            public void published(LoadConnection c, ByteBuf payload, int qos) {
                delivered.increment();
            }
        };
        List<CompletableFuture<Void>> ready = new ArrayList<>();
        for (int g = 0; g < p.groups(); g++) {
            String filter = "bench/ack/" + g + "/+";
            ready.add(client.connect(logins.apply(g), 60, reader).thenCompose(c -> {
                synchronized (connections) {
                    connections.add(c);
                }
                return c.subscribe(filter, 0);
            }));
        }
        RoutingLoad.await(ready, "subscribers");
        ready.clear();
        for (int i = 0; i < p.publishers(); i++) {
            Publisher pub = new Publisher(("bench/ack/" + i % p.groups() + "/" + i).getBytes(StandardCharsets.UTF_8));
            publishers.add(pub);
            ready.add(client.connect(logins.apply(p.groups() + i), 60, pub).thenAccept(c -> {
                pub.conn = c;
                synchronized (connections) {
                    connections.add(c);
                }
            }));
        }
        RoutingLoad.await(ready, "publishers");

        // The whole schedule is fixed before the first message: the publishers' first messages spread over one interval.
        long started = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
        measureFrom = started + p.warmup().toNanos();
        measureTo = measureFrom + p.measure().toNanos();
        for (int i = 0; i < publishers.size(); i++) {
            Publisher pub = publishers.get(i);
            long first = started + (long) (intervalNanos * i / publishers.size());
            pub.conn.loop().execute(() -> pub.start(first));
        }
        RoutingLoad.pause(Duration.ofNanos(measureFrom - System.nanoTime()));
        long serverCpu0 = serverPid == 0 ? 0 : ServerProcess.cpuNanos(serverPid);
        long clientCpu0 = ServerProcess.cpuNanos(ProcessHandle.current().pid());
        RoutingLoad.pause(Duration.ofNanos(measureTo - System.nanoTime()));
        double acked = ackedMeasured.sum();
        double serverCpu = serverPid == 0 ? Double.NaN : (ServerProcess.cpuNanos(serverPid) - serverCpu0) / 1e3 / acked;
        double clientCpu = (ServerProcess.cpuNanos(ProcessHandle.current().pid()) - clientCpu0) / 1e3 / acked;

        long drainEnd = measureTo + DRAIN.toNanos();
        while (System.nanoTime() < drainEnd && (done.get() < publishers.size() || delivered.sum() < ackedAll.sum())) {
            RoutingLoad.pause(Duration.ofMillis(10));
        }
        long sent = 0;
        long late = 0;
        long notAcked = 0;
        int lost = 0;
        for (Publisher pub : publishers) {
            Publisher.Tally t;
            try {
                t = CompletableFuture.supplyAsync(pub::finish, pub.conn.loop()).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("a publisher's event loop did not answer: " + e, e);
            }
            sent += t.sent();
            late += t.late();
            notAcked += t.notAcked();
            lost += pub.lost ? 1 : 0;
        }
        return new Outcome(acked / (p.measure().toNanos() / 1e9), latencies.summary(), sent, late, notAcked,
                Math.max(0, ackedAll.sum() - delivered.sum()), lost, serverCpu, clientCpu);
    }

    private void disconnect() {
        closing = true;
        synchronized (connections) {
            LoadConnection.disconnectAll(List.copyOf(connections), 10);
        }
    }

    /** One publisher with at most one message in flight. Everything but {@link #lost} runs on its connection's loop. */
    private final class Publisher implements LoadConnection.Handler {
        /** What a publisher did, read on its loop at the end. */
        record Tally(long sent, long late, long notAcked) {}

        final byte[] topic;
        LoadConnection conn;
        volatile boolean lost;
        long firstDue;
        /** The next message to send, counted from 0; message k is due at firstDue + k * interval. */
        long next;
        boolean inFlight;
        long inFlightDue;
        long inFlightStart;
        int packetId;
        long sent;
        long late;
        /** No more messages: the last one due before measureTo was acknowledged, or the connection closed. */
        boolean finished;

        Publisher(byte[] topic) {
            this.topic = topic;
        }

        void start(long first) {
            firstDue = first;
            sendWhenDue(false);
        }

        long due(long k) {
            return firstDue + (long) (k * intervalNanos);
        }

        /** Sends the next message now if it is due, else schedules it; {@code afterAck}: on the PUBACK of the previous one. */
        void sendWhenDue(boolean afterAck) {
            if (finished || inFlight) {
                return;
            }
            long due = due(next);
            if (due >= measureTo || !conn.isOpen()) {
                stop();
                return;
            }
            long now = System.nanoTime();
            if (due > now) {
                conn.loop().schedule(() -> sendWhenDue(false), due - now, TimeUnit.NANOSECONDS);
                return;
            }
            // Due already. After a PUBACK that came too late the wait is the broker's: it counts from the due time. After
            // a timer that fired late it is the load tool's: it counts from the write.
            if (afterAck) {
                late += due >= measureFrom ? 1 : 0;
            }
            packetId = packetId % 65535 + 1;
            inFlight = true;
            inFlightDue = due;
            inFlightStart = afterAck ? due : now;
            next++;
            sent++;
            conn.publish(topic, 1, packetId, payload);
            conn.flush();
        }

        @Override
        public void acked(LoadConnection c, int id) {
            if (!inFlight || id != packetId || finished) {
                return;
            }
            long now = System.nanoTime();
            inFlight = false;
            ackedAll.increment();
            if (now >= measureFrom && now < measureTo) {
                ackedMeasured.increment();
            }
            if (inFlightDue >= measureFrom) {
                latencies.record(now - inFlightStart);
            }
            sendWhenDue(true);
        }

        @Override
        public void closed(LoadConnection c) {
            if (!closing) {
                lost = true;
                stop();
            }
        }

        private void stop() {
            if (!finished) {
                finished = true;
                done.incrementAndGet();
            }
        }

        /**
         * At the end of the drain: stops, and counts the messages of the measurement never acknowledged (in flight, or
         * not sent yet), recording each with the time it had waited by now.
         */
        Tally finish() {
            stop();
            long now = System.nanoTime();
            long notAcked = 0;
            if (inFlight && inFlightDue >= measureFrom) {
                latencies.record(now - inFlightStart);
                notAcked++;
            }
            for (long k = next; due(k) < measureTo; k++) {
                if (due(k) >= measureFrom) {
                    latencies.record(Math.max(0, now - due(k)));
                    notAcked++;
                }
            }
            return new Tally(sent, late, notAcked);
        }
    }
}
