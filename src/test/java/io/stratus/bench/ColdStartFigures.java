package io.stratus.bench;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;

/**
 * Scenario h, QoS 0 on a freshly started server: per run and target a new server, and at once (no warm-up) a QoS 0
 * fan-in at a fixed offered rate, each rate on a server of its own. It counts what the subscriber never got: a broker
 * may drop QoS 0 under real overload, but not while its subscriber keeps up and the server is merely cold.
 */
final class ColdStartFigures {
    /** What h runs: publishers into 1 subscriber, the offered rates, and how long each rate is offered. */
    record Setup(List<String> targets, int runs, int threads, int publishers, List<Double> rates, Duration duration) {}

    private final Setup setup;
    /** Starts a target in a fresh work directory named by the second argument. */
    private final BiFunction<String, String, ServerProcess> starter;
    private final Results results;

    ColdStartFigures(Setup setup, BiFunction<String, String, ServerProcess> starter, Results results) {
        this.setup = setup;
        this.starter = starter;
        this.results = results;
    }

    void run() {
        for (int run = 1; run <= setup.runs(); run++) {
            List<String> order = Results.inRunOrder(setup.targets(), run);
            for (double rate : setup.rates()) {
                for (String t : order) {
                    try (ServerProcess s = starter.apply(t, String.format(Locale.ROOT, "cold-%d-%.0f", run, rate));
                         LoadClient client = new LoadClient(s.mqttAddress(), setup.threads())) {
                        RoutingLoad.Outcome o = RoutingLoad.run(client, new RoutingLoad.Params(RoutingLoad.Shape.FAN_IN,
                                setup.publishers(), 1, 0, 128, 32, rate, Duration.ZERO, setup.duration()), s.pid());
                        Compare.log(String.format(Locale.ROOT, "run %d %-9s h cold QoS 0 %d->1 @%,.0f/s: delivered %,.0f/s,"
                                        + " sent %,d, lost %,d, p99 %.0f us", run, t, setup.publishers(), rate,
                                o.deliveriesPerSecond(), o.sent(), o.lost(), o.latency().p99()));
                        String tag = String.format(Locale.ROOT, "h fresh server, QoS 0 fan-in %d->1 at %,.0f msg/s for %d s",
                                setup.publishers(), rate, setup.duration().toSeconds());
                        String key = String.format(Locale.ROOT, "h%.0f", rate);
                        results.add(new Results.Row(key + ".lost", tag + ": messages lost", "msg", false), t, o.lost());
                        results.add(new Results.Row(key + ".p99", tag + ": latency p99", "ms", false), t,
                                o.latency().p99() / 1000);
                    }
                }
            }
        }
    }
}
