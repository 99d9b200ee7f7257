package io.stratus.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scenario j, a reconnect storm. Clients with persistent sessions (clean session 0), each subscribed at QoS 1 to a
 * topic of its own, connect as in d (a fixed number of chains, sockets spread over 127.0.0.x); then every connection is
 * cut at once from the server's side with {@code ss -K} (the kernel destroys the server's sockets and resets the
 * clients': what a crashed load balancer or a NAT that forgot its table does to a broker). Each client waits a uniform
 * random back-off, counted from the end of the cut, and connects again with the same client id and clean session 0,
 * and again after a failed or refused attempt, until a deadline. Measures the time from the end of the cut until every
 * cut client had its CONNACK 0, how many CONNACKs said session present, and the failed attempts. Then one more client
 * publishes a QoS 1 message to each of a sample of the topics: no client subscribed again, so each arrives only if its
 * session kept its subscription.
 */
final class ReconnectStorm {
    /**
     * @param maxBackoff each reconnect attempt waits a uniform random time up to this
     * @param deadline   bounds the first connects, and the reconnects (from the cut)
     * @param sampled    topics published to afterwards (all when there are fewer subscriptions)
     */
    record Params(int connections, int sourceAddresses, int concurrency, int keepAliveSeconds, Duration maxBackoff,
                  Duration deadline, int sampled) {}

    /**
     * @param connected              connections subscribed and open at the cut
     * @param failedToConnect        first connections that did not get to their SUBACK
     * @param destroyed              server sockets that {@code ss -K} destroyed
     * @param cut                    connections that the cut closed, as the clients saw it
     * @param reconnected            cut connections that came back (CONNACK 0) before the deadline
     * @param secondsToAllReconnected from the end of the cut (when the clients start their back-off) to the last of
     *                                those CONNACKs
     * @param sessionPresent         of those first CONNACKs after the cut, how many had session present = 1
     * @param failedAttempts         reconnect attempts that failed (refused, closed, reset, timed out)
     * @param droppedAgain           reconnected connections that closed again before the end
     * @param delivered              sampled topics whose subscriber got the message
     * @param cutMillis              how long {@code ss -K} took
     */
    record Outcome(int connected, int failedToConnect, int destroyed, int cut, int reconnected, double secondsToAllReconnected,
                   int sessionPresent, int failedAttempts, int droppedAgain, int sampled, int delivered, double cutMillis) {}

    /** A reconnect attempt without its CONNACK by then fails (and is retried after a back-off). */
    private static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(10);
    /** After {@code ss -K} has returned, every connection it cut has seen its reset by then. */
    private static final Duration CUT_SEEN = Duration.ofSeconds(5);
    /** The sample's messages, in flight at a time, and how long they may take to arrive. */
    private static final int CHECK_WINDOW = 32;
    private static final Duration CHECK_DEADLINE = Duration.ofSeconds(15);

    private final LoadClient client;
    private final Params p;
    private final List<Member> members = new ArrayList<>();
    private final AtomicInteger cut = new AtomicInteger();
    private final AtomicInteger reconnected = new AtomicInteger();
    private final AtomicInteger sessionPresent = new AtomicInteger();
    private final AtomicInteger failedAttempts = new AtomicInteger();
    private final AtomicInteger droppedAgain = new AtomicInteger();
    private final AtomicLong lastBack = new AtomicLong();
    private final AtomicInteger delivered = new AtomicInteger();
    private final AtomicIntegerArray received;
    /** Reconnect on a drop: from the cut until the end, when the members disconnect themselves. */
    private volatile boolean armed;
    private volatile long reconnectDeadline;
    /**
     * Completes when {@code ss -K} has returned. It takes seconds for thousands of sockets and would destroy the
     * connections made again meanwhile too, so the clients' back-off starts from here.
     */
    private final CompletableFuture<Void> cutOver = new CompletableFuture<>();

    private ReconnectStorm(LoadClient client, Params p) {
        this.client = client;
        this.p = p;
        this.received = new AtomicIntegerArray(p.connections());
    }

    /** {@code ss -K} did not work here: not root (CAP_NET_ADMIN), no ss, or a kernel without CONFIG_INET_DIAG_DESTROY. */
    static final class CutFailed extends IllegalStateException {
        CutFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Runs the scenario against the server listening on {@code mqttPort} of 127.0.0.1; {@code cutLog} receives what
     * {@code ss -K} printed. Throws {@link CutFailed} when {@code ss -K} fails.
     */
    static Outcome run(LoadClient client, Params p, int mqttPort, Path cutLog) {
        ReconnectStorm storm = new ReconnectStorm(client, p);
        try {
            return storm.run(mqttPort, cutLog);
        } finally {
            storm.disconnect();
        }
    }

    private Outcome run(int mqttPort, Path cutLog) {
        String run = Long.toString(System.nanoTime() % 1_000_000, 36);
        InetAddress[] sources = LoadClient.loopbackAddresses(p.sourceAddresses());
        for (int i = 0; i < p.connections(); i++) {
            members.add(new Member(i, LoadConnection.Login.anonymous("storm-" + run + "-" + i), sources[i % sources.length]));
        }
        int failedToConnect = connectAll();
        RoutingLoad.pause(Duration.ofSeconds(1));
        int connected = (int) members.stream().filter(Member::openAtCut).count();

        reconnectDeadline = System.nanoTime() + p.deadline().toNanos();
        armed = true;
        long t0 = System.nanoTime();
        int destroyed = cut(mqttPort, cutLog);
        long cutDone = System.nanoTime();
        if (destroyed == 0 && connected > 0) {
            throw new CutFailed("ss -K destroyed no socket of port " + mqttPort
                    + " (a kernel without CONFIG_INET_DIAG_DESTROY?)", null);
        }
        cutOver.complete(null);
        long seen = cutDone + CUT_SEEN.toNanos();
        // Done when every connection is back, or (once the resets have all been seen) every one the cut closed.
        while (System.nanoTime() < reconnectDeadline) {
            int back = reconnected.get();
            if (back >= connected || (System.nanoTime() > seen && back >= cut.get())) {
                break;
            }
            RoutingLoad.pause(Duration.ofMillis(10));
        }
        int back = reconnected.get();
        double toAll = back == 0 ? Double.NaN : (lastBack.get() - cutDone) / 1e9;

        List<Member> subscribed = members.stream().filter(m -> m.subscribed).toList();
        int n = Math.min(p.sampled(), subscribed.size());
        List<Member> sample = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            sample.add(subscribed.get((int) ((long) k * subscribed.size() / n)));
        }
        check(sample, "storm-" + run + "-check");
        return new Outcome(connected, failedToConnect, destroyed, cut.get(), back, toAll, sessionPresent.get(), failedAttempts.get(),
                droppedAgain.get(), n, delivered.get(), (cutDone - t0) / 1e6);
    }

    /** Connects and subscribes every member as {@link IdleLoad} does; returns how many did not get to their SUBACK. */
    private int connectAll() {
        return LoadClient.inChains(members.size(), p.concurrency(), System.nanoTime() + p.deadline().toNanos(), i -> {
            Member m = members.get(i);
            return client.connect(m.login, false, p.keepAliveSeconds(), m, m.source, LoadClient.currentLoop())
                    .thenCompose(c -> {
                        m.current = c;
                        m.loop = c.loop();
                        return c.subscribe(topic(m.index), 1);
                    })
                    .thenRun(() -> m.subscribed = true);
        });
    }

    private static String topic(int index) {
        return "bench/storm/" + index;
    }

    /**
     * Destroys every TCP socket of 127.0.0.1 whose local port is the server's: each connection the server accepted
     * there (without -a, ss leaves the listening socket alone). Returns how many it destroyed: the lines it printed
     * after its header (a kernel without socket destroy has ss skip each socket silently, exit 0).
     */
    private static int cut(int mqttPort, Path log) {
        List<String> cmd = List.of("ss", "-K", "-t", "-n", "src", "127.0.0.1", "sport", "=", ":" + mqttPort);
        try {
            Files.createDirectories(log.getParent());
            Process ss = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!ss.waitFor(60, TimeUnit.SECONDS)) {
                ss.destroyForcibly();
                throw new CutFailed(String.join(" ", cmd) + " did not finish in 60 s", null);
            }
            if (ss.exitValue() != 0) {
                throw new CutFailed(String.join(" ", cmd) + " failed (" + ss.exitValue() + "): "
                        + ServerProcess.read(log).lines().limit(5).toList(), null);
            }
            return (int) ServerProcess.read(log).lines().filter(l -> !l.isBlank() && !l.startsWith("State")).count();
        } catch (IOException e) {
            throw new CutFailed("cannot run " + String.join(" ", cmd) + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while cutting", e);
        }
    }

    /**
     * From one more client (clean session), a QoS 1 message carrying the member's index to each sampled member's topic,
     * {@link #CHECK_WINDOW} unacknowledged at a time; waits until each has arrived or the deadline.
     */
    private void check(List<Member> sample, String clientId) {
        if (sample.isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + CHECK_DEADLINE.toNanos();
        Checker checker = new Checker(sample);
        LoadConnection c;
        try {
            c = client.connect(LoadConnection.Login.anonymous(clientId), 60, checker).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the checking publisher could not connect: " + e, e);
        }
        try {
            checker.conn = c;
            c.loop().execute(checker::pump);
            while (delivered.get() < sample.size() && System.nanoTime() < deadline) {
                RoutingLoad.pause(Duration.ofMillis(10));
            }
        } finally {
            try {
                c.disconnect().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // best effort
            }
        }
    }

    private void disconnect() {
        armed = false;
        List<LoadConnection> open = new ArrayList<>();
        for (Member m : members) {
            LoadConnection c = m.current;
            if (c != null) {
                open.add(c);
            }
        }
        LoadConnection.disconnectAll(open, 60);
    }

    /** One client and its persistent session; its connections all live on one event loop, where its handler runs. */
    private final class Member implements LoadConnection.Handler {
        final int index;
        final LoadConnection.Login login;
        final InetAddress source;
        volatile EventLoop loop;
        /** The connection that had its CONNACK last; null while reconnecting. */
        volatile LoadConnection current;
        volatile boolean subscribed;
        boolean wasCut;
        boolean back;

        Member(int index, LoadConnection.Login login, InetAddress source) {
            this.index = index;
            this.login = login;
            this.source = source;
        }

        boolean openAtCut() {
            LoadConnection c = current;
            return subscribed && c != null && c.isOpen();
        }

        @Override
        public void closed(LoadConnection c) {
            if (c != current || !armed) {
                return; // a failed attempt (counted where it failed), or the end
            }
            current = null;
            if (wasCut) {
                droppedAgain.incrementAndGet();
            } else {
                wasCut = true;
                cut.incrementAndGet();
            }
            cutOver.thenRun(this::retryLater);
        }

        private void retryLater() {
            long backoff = ThreadLocalRandom.current().nextLong(p.maxBackoff().toNanos() + 1);
            loop.schedule(this::attempt, backoff, TimeUnit.NANOSECONDS);
        }

        private void attempt() {
            if (!armed || System.nanoTime() > reconnectDeadline) {
                return;
            }
            client.connect(login, false, p.keepAliveSeconds(), this, source, loop)
                    .orTimeout(ATTEMPT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .whenComplete((c, e) -> {
                        if (e != null) {
                            failedAttempts.incrementAndGet();
                            retryLater();
                            return;
                        }
                        if (!armed) {
                            c.disconnect(); // came back after the end: disconnect() no longer sees it
                            return;
                        }
                        // On the loop that read the CONNACK: before any close of this connection reaches closed().
                        current = c;
                        if (!back) {
                            back = true;
                            lastBack.accumulateAndGet(System.nanoTime(), Math::max);
                            if (c.sessionPresent()) {
                                sessionPresent.incrementAndGet();
                            }
                            reconnected.incrementAndGet();
                        }
                    });
        }

        @Override
        public void published(LoadConnection c, ByteBuf payload, int qos) {
            if (payload.readableBytes() >= 4 && payload.getInt(payload.readerIndex()) == index
                    && received.compareAndSet(index, 0, 1)) {
                delivered.incrementAndGet();
            }
        }
    }

    /** The checking publisher: on its connection's loop. */
    private static final class Checker implements LoadConnection.Handler {
        private final List<Member> sample;
        LoadConnection conn;
        private int next;
        private int inFlight;
        private int packetId;

        Checker(List<Member> sample) {
            this.sample = sample;
        }

        void pump() {
            int sent = 0;
            while (inFlight < CHECK_WINDOW && next < sample.size()) {
                Member m = sample.get(next++);
                packetId = packetId % 65535 + 1;
                inFlight++;
                conn.publish(topic(m.index).getBytes(StandardCharsets.UTF_8), 1, packetId,
                        new byte[] {(byte) (m.index >>> 24), (byte) (m.index >>> 16), (byte) (m.index >>> 8), (byte) m.index});
                sent++;
            }
            if (sent > 0) {
                conn.flush();
            }
        }

        @Override
        public void acked(LoadConnection c, int packetId) {
            inFlight--;
            pump();
        }
    }
}
