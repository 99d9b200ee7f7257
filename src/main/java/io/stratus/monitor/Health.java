package io.stratus.monitor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Readiness checks behind {@code GET /healthz}: each returns null when fine, else the problem in a few words.
 * Liveness needs no check: a server that answers HTTP is alive.
 */
public final class Health {
    /** The outcome of every check, in registration order: "ok" or the problem. */
    public record Report(boolean ready, Map<String, String> checks) {}

    private record Check(String name, Supplier<String> problem) {}

    private final List<Check> checks = new CopyOnWriteArrayList<>();

    public Health check(String name, Supplier<String> problem) {
        checks.add(new Check(name, problem));
        return this;
    }

    public Report evaluate() {
        Map<String, String> results = new LinkedHashMap<>();
        boolean ready = true;
        for (Check c : checks) {
            String problem;
            try {
                problem = c.problem().get();
            } catch (RuntimeException e) {
                problem = e.toString();
            }
            results.put(c.name(), problem == null ? "ok" : problem);
            ready &= problem == null;
        }
        return new Report(ready, results);
    }
}
