package io.stratus.bench;

import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;
import java.util.function.IntFunction;

/**
 * Scenario i against every target ({@link AckLatencyLoad}): per run and target a fresh server, its clients' logins
 * (Stratus: devices of a product made through its API; Mosquitto: anonymous), unmeasured load at the highest rate,
 * then each offered rate in turn on that server.
 */
final class AckLatencyFigures {
    /** What i runs: {@code load}'s rate is replaced by each of {@code rates}; {@code warm} of unmeasured load first. */
    record Setup(List<String> targets, int runs, int threads, AckLatencyLoad.Params load, List<Double> rates, Duration warm) {}

    private final Setup setup;
    /** Starts a target (Stratus with credentials required) in a fresh work directory named by the second argument. */
    private final BiFunction<String, String, ServerProcess> starter;
    private final Results results;

    AckLatencyFigures(Setup setup, BiFunction<String, String, ServerProcess> starter, Results results) {
        this.setup = setup;
        this.starter = starter;
        this.results = results;
    }

    void run() {
        AckLatencyLoad.Params p = setup.load();
        for (int run = 1; run <= setup.runs(); run++) {
            for (String t : Results.inRunOrder(setup.targets(), run)) {
                try (ServerProcess s = starter.apply(t, "ack-" + run);
                     LoadClient client = new LoadClient(s.mqttAddress(), setup.threads())) {
                    IntFunction<LoadConnection.Login> logins = AckLatencyLoad.logins(p,
                            t.equals("stratus") ? new StratusHttp(s.httpPort) : null, ServerProcess.ADMIN_PASSWORD);
                    AckLatencyLoad.run(client, at(Collections.max(setup.rates()), setup.warm(), Duration.ofMillis(100)), logins,
                            0);
                    for (double rate : setup.rates()) {
                        measure(run, t, s, client, logins, rate);
                    }
                }
            }
        }
        results.note("i: Stratus's clients log in as devices of one product (OneNET credentials), Mosquitto's anonymously");
    }

    private void measure(int run, String target, ServerProcess s, LoadClient client, IntFunction<LoadConnection.Login> logins,
                         double rate) {
        AckLatencyLoad.Params p = setup.load();
        AckLatencyLoad.Outcome o = AckLatencyLoad.run(client, at(rate, p.warmup(), p.measure()), logins, s.pid());
        Compare.log(String.format(Locale.ROOT, "run %d %-9s i PUBACK @%,.0f/s: acked %,.0f/s, p50 %.0f us, p99 %.0f us,"
                        + " p99.9 %.0f us, max %.0f us; sent %,d, late %,d, not acked %d, not delivered %d, publishers lost %d;"
                        + " CPU/msg server %.2f us, tool %.2f us", run, target, rate, o.ackedPerSecond(), o.latency().p50(),
                o.latency().p99(), o.latency().p999(), o.latency().max(), o.sent(), o.late(), o.notAcked(), o.notDelivered(),
                o.publishersLost(), o.serverCpuMicrosPerMessage(), o.clientCpuMicrosPerMessage()));
        if (o.notAcked() > 0 || o.notDelivered() > 0 || o.publishersLost() > 0) {
            results.note(String.format(Locale.ROOT, "%s, i at %,.0f msg/s, run %d: %d messages without PUBACK (counted in the"
                            + " latency with their wait so far), %d acknowledged but not delivered, %d publishers lost", target,
                    rate, run, o.notAcked(), o.notDelivered(), o.publishersLost()));
        }
        String tag = String.format(Locale.ROOT, "i QoS 1, %d publishers with 1 in flight, at %,.0f msg/s", p.publishers(), rate);
        String key = String.format(Locale.ROOT, "i%.0f", rate);
        results.add(new Results.Row(key + ".rate", tag + ": acknowledged", "msg/s", true), target, o.ackedPerSecond());
        results.add(new Results.Row(key + ".p50", tag + ": PUBACK latency p50", "us", false), target, o.latency().p50());
        results.add(new Results.Row(key + ".p99", tag + ": PUBACK latency p99", "us", false), target, o.latency().p99());
        results.add(new Results.Row(key + ".p999", tag + ": PUBACK latency p99.9", "us", false), target, o.latency().p999());
        results.add(new Results.Row(key + ".cpu", tag + ": server CPU per message", "us", false), target,
                o.serverCpuMicrosPerMessage());
    }

    private AckLatencyLoad.Params at(double rate, Duration warmup, Duration measure) {
        AckLatencyLoad.Params p = setup.load();
        return new AckLatencyLoad.Params(p.publishers(), p.groups(), p.payloadBytes(), rate, warmup, measure);
    }
}
