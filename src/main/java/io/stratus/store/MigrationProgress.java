package io.stratus.store;

import java.util.Locale;
import java.util.function.Consumer;

/** The lines a {@link StoreMigration} reports: one about every 2 s while a table is copied, one when it is done. */
final class MigrationProgress {
    private static final long INTERVAL_NANOS = 2_000_000_000L;

    private final Consumer<String> report;
    private long lastLine = System.nanoTime();

    MigrationProgress(Consumer<String> report) {
        this.report = report;
    }

    void line(String text) {
        report.accept(text);
        lastLine = System.nanoTime();
    }

    /** {@code rows} of {@code table} copied so far, since {@code started} ({@link System#nanoTime}). */
    void copying(String table, long rows, long started) {
        if (System.nanoTime() - lastLine >= INTERVAL_NANOS) {
            line("copying " + table + ": " + rows + " rows, " + rate(rows, started) + " rows/s");
        }
    }

    void copied(String table, long rows, long started) {
        long nanos = System.nanoTime() - started;
        line("copied " + table + ": " + rows + " rows" + (nanos < INTERVAL_NANOS ? ""
                : String.format(Locale.ROOT, " in %.1f s, %d rows/s", nanos / 1e9, rate(rows, started))));
    }

    private static long rate(long rows, long started) {
        return rows * 1_000_000_000L / Math.max(1, System.nanoTime() - started);
    }
}
