package io.stratus.bench;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Scenario g, MQTT over TLS against every target with the same certificate ({@link BenchTls}): per run and target a
 * fresh server with a TLS port, then connections over TLS as in d (each a full handshake, then CONNECT, SUBSCRIBE; a
 * warm-up round first) for the connect rate, its latency and the server's RSS per idle TLS connection; then rounds of
 * connections until the server's JIT compilers are quiet ({@link IdleLoad#settle}) and the connect figures again, as
 * a server that has run for a while has them; then QoS 1 point to point over TLS as in b (after unmeasured load of the
 * same shape).
 */
final class TlsFigures {
    /** What g runs: the connections of its connect phase, and the point-to-point phase (its warm-up unmeasured). */
    record Setup(List<String> targets, int runs, int threads, IdleLoad.Params idle, RoutingLoad.Params p2p, Duration p2pWarmup,
                 Duration settleCap) {}


    /** Starts {@code target} with a TLS port for {@code tls}'s certificate. */
    interface Starter {
        ServerProcess start(String target, String name, BenchTls tls);
    }

    private final Setup setup;
    private final BenchTls tls;
    private final Starter starter;
    private final Results results;

    TlsFigures(Setup setup, BenchTls tls, Starter starter, Results results) {
        this.setup = setup;
        this.tls = tls;
        this.starter = starter;
        this.results = results;
    }

    void run() {
        if (!setup.settleCap().isZero()) {
            warmTool();
        }
        for (int run = 1; run <= setup.runs(); run++) {
            List<String> order = Results.inRunOrder(setup.targets(), run);
            for (String t : order) {
                try (ServerProcess s = starter.start(t, "tls-" + run, tls);
                     LoadClient client = new LoadClient(s.tlsAddress(), setup.threads(), tls)) {
                    connects(run, t, s, client, false);
                    if (!setup.settleCap().isZero()) {
                        IdleLoad.Settled settled = IdleLoad.settle(client, setup.idle(), s.pid(), setup.settleCap());
                        Compare.log(String.format(Locale.ROOT, "run %d %-9s g settled after %d rounds, %,d connections, %.0f s;"
                                        + " JIT compilers in the last round: %.1f%% of a core", run, t, settled.rounds(),
                                settled.connections(), settled.seconds(), 100 * settled.compilerShare()));
                        results.add(new Results.Row("g.settle", "g TLS, connections until the JIT settled (compilers under "
                                + Math.round(100 * IdleLoad.QUIET_COMPILERS) + "% of a core in a round)", "conn", false), t, settled.connections());
                        connects(run, t, s, client, true);
                    }
                    pointToPoint(run, t, s, client);
                }
            }
        }
    }

    /**
     * Compiles the load tool's own code before the first run, against a throwaway server (Mosquitto when it is a
     * target: it has no JIT to warm with it), so that the first target measured does not share the cores with the
     * tool's JIT while the others do not.
     */
    private void warmTool() {
        String t = setup.targets().contains("mosquitto") ? "mosquitto" : setup.targets().get(0);
        try (ServerProcess s = starter.start(t, "tls-tool-warm-up", tls);
             LoadClient client = new LoadClient(s.tlsAddress(), setup.threads(), tls)) {
            IdleLoad.warmTool(client, setup.idle(), setup.settleCap(), t + " over TLS");
        }
    }

    /**
     * The connect phase: on a fresh server after its warm-up connections, or on a {@code settled} one (no further
     * warm-up; its rows are separate).
     */
    private void connects(int run, String target, ServerProcess s, LoadClient client, boolean settled) {
        long full0 = tls.fullHandshakes();
        long resumed0 = tls.resumedHandshakes();
        IdleLoad.Params p = setup.idle();
        IdleLoad.Outcome o = IdleLoad.run(client, settled ? p.measuring(p.connections()) : p, s.pid());
        String negotiated = tls.takeNegotiated();
        long full = tls.fullHandshakes() - full0;
        long resumed = tls.resumedHandshakes() - resumed0;
        Compare.log(String.format(Locale.ROOT, "run %d %-9s g TLS %s%,d: %,.0f connects/s, connect p50 %.1f ms p99 %.1f ms,"
                        + " RSS %,d -> %,d KiB = %,.0f B/connection, held %,d, failed %d; handshakes %,d full, %,d resumed (%s);"
                        + " CPU per connection: server %.0f us, tool %.0f us", run,
                target, settled ? "settled " : "", o.connected(), o.connectsPerSecond(), o.connectLatency().p50() / 1000, o.connectLatency().p99() / 1000,
                o.rssBeforeKb(), o.rssAfterKb(), o.bytesPerConnection(), o.held(), o.failed(), full, resumed, negotiated,
                o.serverCpuMicrosPerConnection(), o.clientCpuMicrosPerConnection()));
        if (resumed > 0 || o.failed() > 0) {
            results.note(target + ", g run " + run + ": " + resumed + " TLS sessions resumed, " + o.failed() + " connections failed");
        }
        String tag = String.format(Locale.ROOT, "g TLS, %s, %,d connections %d at a time",
                settled ? "JIT settled" : "fresh server", setup.idle().connections(), setup.idle().concurrency());
        String key = settled ? "g.settled" : "g";
        results.add(new Results.Row(key + ".rate", tag + ": connects/s (full handshakes, ECDSA P-256)", "conn/s", true), target,
                o.connectsPerSecond());
        results.add(new Results.Row(key + ".p99", tag + ": connect p99, connect() to CONNACK", "ms", false), target,
                o.connectLatency().p99() / 1000);
        results.add(new Results.Row(key + ".cpu", tag + ": server CPU per connection", "us", false), target,
                o.serverCpuMicrosPerConnection());
        if (!settled) { // a settled server reuses the memory its earlier rounds' connections had
            results.add(new Results.Row("g.bytes", tag + ": server RSS growth per idle TLS connection", "bytes", false), target,
                    o.bytesPerConnection());
        }
        results.note("g, " + target + ": " + negotiated + "; server certificate ECDSA P-256 from the benchmark's own CA; the"
                + " load tool (BoringSSL, offering X25519 and P-256) resumes no session: each connection has a session cache key of its own");
    }

    private void pointToPoint(int run, String target, ServerProcess s, LoadClient client) {
        RoutingLoad.Params p = setup.p2p();
        RoutingLoad.run(client, new RoutingLoad.Params(p.shape(), p.publishers(), p.subscribers(), p.qos(), p.payloadBytes(),
                p.window(), 0, setup.p2pWarmup(), Duration.ofMillis(100)), 0);
        RoutingLoad.Outcome o = RoutingLoad.run(client, p, s.pid());
        Compare.log(String.format(Locale.ROOT, "run %d %-9s g TLS p2p q1 max %,10.0f /s  p50 %7.0f us  p99 %7.0f us  lost %d"
                        + "  CPU/msg server %.2f us, tool %.2f us", run, target, o.deliveriesPerSecond(), o.latency().p50(),
                o.latency().p99(), o.lost(), o.serverCpuMicrosPerDelivery(), o.clientCpuMicrosPerDelivery()));
        if (o.lost() > 0) {
            results.note(target + ", g TLS point to point: " + o.lost() + " deliveries lost in run " + run);
        }
        String tag = "g TLS QoS 1 point to point, " + p.publishers() + " pairs, max rate";
        results.add(new Results.Row("g.q1", tag, "msg/s", true), target, o.deliveriesPerSecond());
        results.add(new Results.Row("g.q1.cpu", tag + ", server CPU per message", "us", false), target,
                o.serverCpuMicrosPerDelivery());
    }
}
