package io.stratus.bench;

import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;

/** Scenario j against every target ({@link ReconnectStorm}): per run and target a fresh server and one storm. */
final class ReconnectFigures {
    record Setup(List<String> targets, int runs, int threads, ReconnectStorm.Params storm) {}

    private final Setup setup;
    /** Starts a target in a fresh work directory named by the second argument. */
    private final BiFunction<String, String, ServerProcess> starter;
    private final Results results;

    ReconnectFigures(Setup setup, BiFunction<String, String, ServerProcess> starter, Results results) {
        this.setup = setup;
        this.starter = starter;
        this.results = results;
    }

    void run() {
        ReconnectStorm.Params p = setup.storm();
        for (int run = 1; run <= setup.runs(); run++) {
            for (String t : Results.inRunOrder(setup.targets(), run)) {
                ReconnectStorm.Outcome o;
                try (ServerProcess s = starter.apply(t, "storm-" + run);
                     LoadClient client = new LoadClient(s.mqttAddress(), setup.threads())) {
                    o = ReconnectStorm.run(client, p, s.mqttPort, s.dir.resolve("ss-K.log"));
                } catch (ReconnectStorm.CutFailed e) {
                    Compare.log("j not measured: " + e.getMessage());
                    results.note("j not measured: " + e.getMessage() + " (ss -K needs root and a kernel with socket destroy)");
                    return;
                }
                Compare.log(String.format(Locale.ROOT, "run %d %-9s j storm %,d: ss -K destroyed %,d in %.0f ms, %,d cut, %,d back"
                                + " in %.2f s, session present %,d, failed attempts %,d, dropped again %d; sample delivered %,d of %,d"
                                + " (first connects failed: %d)", run, t, o.connected(), o.destroyed(), o.cutMillis(), o.cut(),
                        o.reconnected(), o.secondsToAllReconnected(), o.sessionPresent(), o.failedAttempts(), o.droppedAgain(),
                        o.delivered(), o.sampled(), o.failedToConnect()));
                if (o.failedToConnect() > 0 || o.droppedAgain() > 0 || o.cut() != o.connected()) {
                    results.note(String.format(Locale.ROOT, "%s, j run %d: %d of %,d first connections failed, %,d of %,d connected"
                                    + " were cut, %d dropped again after reconnecting", t, run, o.failedToConnect(), p.connections(),
                            o.cut(), o.connected(), o.droppedAgain()));
                }
                String tag = String.format(Locale.ROOT, "j reconnect storm, %,d persistent sessions cut at once, back-off 0-%.0f s",
                        p.connections(), p.maxBackoff().toMillis() / 1000.0);
                results.add(new Results.Row("j.time", tag + ": end of the cut to all reconnected", "s", false), t,
                        o.secondsToAllReconnected());
                results.add(new Results.Row("j.back", tag + ": clients reconnected", "conn", true), t, o.reconnected());
                results.add(new Results.Row("j.present", tag + ": CONNACKs with session present", "conn", true), t,
                        o.sessionPresent());
                results.add(new Results.Row("j.failed", tag + ": failed reconnect attempts", "attempts", false), t,
                        o.failedAttempts());
                results.add(new Results.Row("j.delivered", String.format(Locale.ROOT, "%s: QoS 1 to %,d sampled topics afterwards,"
                        + " delivered (no resubscribing)", tag, o.sampled()), "msg", true), t, o.delivered());
            }
        }
    }
}
