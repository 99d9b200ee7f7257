package io.stratus.monitor;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.DoubleSupplier;
import java.util.regex.Pattern;

/**
 * The server's metrics in the Prometheus text exposition format (version 0.0.4), served by {@code GET /metrics}.
 * Hand-written rather than Micrometer's registry: every value already lives in a counter or a queue of the part
 * that owns it, so a metric is a name and a supplier read at scrape time, and the format is a few lines.
 * Names follow Prometheus conventions: {@code stratus_} prefix, {@code _total} for counters, base units.
 */
public final class Metrics {
    private enum Type { COUNTER, GAUGE }

    private record Metric(String name, String help, Type type, DoubleSupplier value) {}

    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private final List<Metric> metrics = new CopyOnWriteArrayList<>();

    /** A value that only grows (the name should end in {@code _total}). */
    public Metrics counter(String name, String help, DoubleSupplier value) {
        return add(new Metric(name, help, Type.COUNTER, value));
    }

    /** A value that goes up and down. */
    public Metrics gauge(String name, String help, DoubleSupplier value) {
        return add(new Metric(name, help, Type.GAUGE, value));
    }

    private Metrics add(Metric m) {
        if (!NAME.matcher(m.name()).matches()) {
            throw new IllegalArgumentException("not a metric name: " + m.name());
        }
        if (metrics.stream().anyMatch(x -> x.name().equals(m.name()))) {
            throw new IllegalArgumentException("metric registered twice: " + m.name());
        }
        metrics.add(m);
        return this;
    }

    /** All metrics as exposition text; a metric whose supplier throws is left out rather than failing the scrape. */
    public String scrape() {
        StringBuilder out = new StringBuilder(metrics.size() * 120);
        for (Metric m : metrics) {
            double v;
            try {
                v = m.value().getAsDouble();
            } catch (RuntimeException e) {
                continue;
            }
            out.append("# HELP ").append(m.name()).append(' ').append(m.help().replace("\\", "\\\\").replace("\n", "\\n")).append('\n');
            out.append("# TYPE ").append(m.name()).append(' ').append(m.type().name().toLowerCase(Locale.ROOT)).append('\n');
            out.append(m.name()).append(' ').append(format(v)).append('\n');
        }
        return out.toString();
    }

    private static String format(double v) {
        if (v == Math.rint(v) && !Double.isInfinite(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.isNaN(v) ? "NaN" : Double.isInfinite(v) ? (v > 0 ? "+Inf" : "-Inf") : Double.toString(v);
    }
}
