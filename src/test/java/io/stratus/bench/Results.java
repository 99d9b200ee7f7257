package io.stratus.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** Figures of every run, by row and target; printed as medians with the ratio of the first target to the second. */
final class Results {
    /** One figure: what it measures, its unit and which way is better. */
    record Row(String key, String label, String unit, boolean higherIsBetter) {}

    private final Map<String, Row> rows = new LinkedHashMap<>();
    private final Map<String, Map<String, List<Double>>> values = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();

    void add(Row row, String target, double value) {
        rows.putIfAbsent(row.key(), row);
        values.computeIfAbsent(row.key(), k -> new LinkedHashMap<>()).computeIfAbsent(target, t -> new ArrayList<>()).add(value);
    }

    void note(String text) {
        if (!notes.contains(text)) {
            notes.add(text);
        }
    }

    static double median(List<Double> xs) {
        if (xs == null || xs.isEmpty()) {
            return Double.NaN;
        }
        double[] sorted = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** A Markdown table: one row per figure, the median of each target, and first/second as the ratio. */
    String table(List<String> targets) {
        StringBuilder out = new StringBuilder();
        out.append("| Figure | unit | better |");
        targets.forEach(t -> out.append(' ').append(t).append(" |"));
        boolean ratio = targets.size() == 2;
        if (ratio) {
            out.append(' ').append(targets.get(0)).append('/').append(targets.get(1)).append(" |");
        }
        out.append(" runs |\n|---|---|---|");
        targets.forEach(t -> out.append("---:|"));
        out.append(ratio ? "---:|---|\n" : "---|\n");
        for (Row row : rows.values()) {
            Map<String, List<Double>> byTarget = values.get(row.key());
            out.append("| ").append(row.label()).append(" | ").append(row.unit()).append(" | ")
                    .append(row.higherIsBetter() ? "higher" : "lower").append(" |");
            for (String t : targets) {
                out.append(' ').append(format(median(byTarget.get(t)))).append(" |");
            }
            if (ratio) {
                double a = median(byTarget.get(targets.get(0)));
                double b = median(byTarget.get(targets.get(1)));
                out.append(' ').append(Double.isNaN(a) || Double.isNaN(b) || b == 0 ? "" : String.format(Locale.ROOT, "%.2fx", a / b))
                        .append(" |");
            }
            out.append(' ').append(targets.stream().filter(byTarget::containsKey)
                    .map(t -> byTarget.get(t).stream().map(Results::format).collect(Collectors.joining(", ")))
                    .collect(Collectors.joining(" / "))).append(" |\n");
        }
        for (String n : notes) {
            out.append("\n- ").append(n);
        }
        return out.toString();
    }

    static String format(double v) {
        if (Double.isNaN(v)) {
            return "";
        }
        double abs = Math.abs(v);
        if (abs >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (abs >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (abs >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    @Override
    public String toString() {
        return Arrays.toString(rows.keySet().toArray());
    }

    /** {@code items} in the order of run {@code run} (from 1): reversed every second run, so that none always goes first. */
    static <T> List<T> inRunOrder(List<T> items, int run) {
        List<T> order = new ArrayList<>(items);
        if (run % 2 == 0) {
            Collections.reverse(order);
        }
        return order;
    }
}
