package io.stratus.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Scenarios e and f against Stratus on each store, side by side (a fresh server, and on PostgreSQL a fresh database,
 * per run; the order of the stores flips every run), and the time {@code stratus migrate} takes to copy an embedded
 * store into PostgreSQL. PostgreSQL is a temporary cluster of the benchmark's own ({@link PostgresUnderTest}), started
 * when first needed and stopped by {@link #close()}.
 */
final class StoreFigures implements AutoCloseable {
    static final String SQLITE = "sqlite";
    static final String POSTGRESQL = "postgresql";
    /** Statements of pg_stat_statements shown under the table. */
    private static final int TOP_STATEMENTS = 5;

    /** Starts Stratus for a run of e and f on {@code store} ({@code storeUrl} empty for SQLite), recording its start-up. */
    interface Starter {
        ServerProcess start(String name, String store, String storeUrl);
    }

    /** What the figures are taken with: Compare's options. */
    record Setup(Path jar, List<String> stratusJvm, Path work, int runs, int threads, DpLoad.Params dp, boolean ingest,
                 boolean history, List<String> stores, long migratePoints) {}

    /** One figure of e or f, read from each run's outcome. */
    private record Figure(String key, String label, String unit, boolean higherIsBetter, ToDoubleFunction<DpLoad.Outcome> value) {}

    private final Setup setup;
    private final Results results;
    private final Starter starter;
    private PostgresUnderTest postgres;
    private PostgresUnderTest.Statements lastStatements;
    private PostgresUnderTest.WalFlushes lastWal;
    private int lastRun;

    StoreFigures(Setup setup, Results results, Starter starter) {
        this.setup = setup;
        this.results = results;
        this.starter = starter;
    }

    /** e and f on every store, then the rows interleaved: each figure's SQLite row beside its PostgreSQL row. */
    void datapoints() {
        Map<String, List<DpLoad.Outcome>> byStore = new LinkedHashMap<>();
        setup.stores().forEach(s -> byStore.put(s, new ArrayList<>()));
        for (int run = 1; run <= setup.runs(); run++) {
            List<String> order = Results.inRunOrder(setup.stores(), run);
            for (String store : order) {
                DpLoad.Outcome o = datapoints(store, run);
                byStore.get(store).add(o);
                if (setup.history() && o.queryPoints() != DpLoad.HISTORY_POINTS) {
                    results.note("f on " + store + " returned " + o.queryPoints() + " points, not " + DpLoad.HISTORY_POINTS + ", in run " + run);
                }
            }
        }
        for (Figure f : figures()) {
            byStore.forEach((store, outcomes) -> outcomes.stream().mapToDouble(f.value()).filter(v -> !Double.isNaN(v)).forEach(v ->
                    results.add(new Results.Row(f.key() + "." + store, f.label() + " (" + store + ")", f.unit(), f.higherIsBetter()),
                            "stratus", v)));
        }
        if (setup.ingest() && lastStatements != null) {
            noteActivity();
        }
    }

    private DpLoad.Outcome datapoints(String store, int run) {
        boolean onPostgres = store.equals(POSTGRESQL);
        String url = onPostgres ? postgres().createDatabase() : "";
        String database = onPostgres ? PostgresUnderTest.name(url) : "";
        List<PostgresUnderTest.Statements> statements = new ArrayList<>();
        DpLoad.Outcome o;
        try (ServerProcess s = starter.start("dp-" + store + "-" + run, store, url);
             LoadClient client = new LoadClient(s.mqttAddress(), setup.threads())) {
            DpLoad.Store counted;
            if (onPostgres) {
                // Counted from here: Flyway's migrations at start-up are not the ingest's statements.
                postgres.resetStatistics();
                counted = new DpLoad.Store(() -> PostgresUnderTest.connect(url), postgres::cpuNanos,
                        () -> statements.add(postgres.topStatements(database, TOP_STATEMENTS)));
            } else {
                counted = DpLoad.Store.sqliteFile(s.dir.resolve("data"));
            }
            o = DpLoad.run(client, new StratusHttp(s.httpPort), ServerProcess.ADMIN_PASSWORD, setup.dp(), counted, s.pid());
        }
        Compare.log(String.format(Locale.ROOT, "run %d %-10s e $dp %d devices: %,.0f points/s, PUBACK p50 %.1f ms p99 %.1f ms,"
                        + " acked %,d msgs x 4, stored %,d (%s), CPU/point Stratus %.2f us%s; f %d points: median %.1f ms,"
                        + " p90 %.1f ms", run, store, setup.dp().devices(), o.pointsPerSecond(), o.puback().p50() / 1000,
                o.puback().p99() / 1000, o.ackedMessages(), o.stored(), o.storedMatchesAcked() ? "equal" : "DIFFERENT",
                o.serverCpuMicrosPerPoint(), onPostgres ? String.format(Locale.ROOT, ", PostgreSQL %.2f us", o.storeCpuMicrosPerPoint()) : "",
                o.queryPoints(), o.queryMillisMedian(), o.queryMillisP90()));
        if (onPostgres) {
            lastStatements = statements.get(0);
            lastWal = postgres.walFlushes(database);
            lastRun = run;
            Compare.log(String.format(Locale.ROOT, "  %s while Stratus ran; in e its statements executed for %,.0f ms", lastWal,
                    lastStatements.allMillis()));
            lastStatements.top().forEach(t -> Compare.log("  pg_stat_statements: " + t));
        }
        return o;
    }

    /** The last run's PostgreSQL activity, as one note under the table (every run's is in the log). */
    private void noteActivity() {
        List<PostgresUnderTest.StatementStats> top = lastStatements.top();
        StringBuilder note = new StringBuilder(String.format(Locale.ROOT, "What limits PostgreSQL (run %d of %d): from the"
                + " product's creation to the last PUBACK of e all statements executed for %,.0f ms; %s while Stratus ran e and f"
                + " (a commit waits for its flush, which is in no statement's time); the top %d statements of"
                + " pg_stat_statements in e by total execution time:", lastRun, setup.runs(), lastStatements.allMillis(), lastWal,
                top.size()));
        for (int i = 0; i < top.size(); i++) {
            note.append("\n  ").append(i + 1).append(". ").append(top.get(i));
        }
        results.note(note.toString());
    }

    private List<Figure> figures() {
        List<Figure> figures = new ArrayList<>();
        if (setup.ingest()) {
            String tag = "e $dp ingest QoS 1, " + setup.dp().devices() + " devices, 4 streams/msg";
            figures.add(new Figure("e.rate", tag + ", stored points", "points/s", true, DpLoad.Outcome::pointsPerSecond));
            figures.add(new Figure("e.p99", tag + ", PUBACK p99", "ms", false, o -> o.puback().p99() / 1000));
            figures.add(new Figure("e.cpu", tag + ", server CPU per point", "us", false, DpLoad.Outcome::serverCpuMicrosPerPoint));
            figures.add(new Figure("e.storecpu", tag + ", PostgreSQL CPU per point", "us", false, DpLoad.Outcome::storeCpuMicrosPerPoint));
            figures.add(new Figure("e.match", tag + ", stored == acknowledged", "1 = yes", true, o -> o.storedMatchesAcked() ? 1 : 0));
        }
        if (setup.history()) {
            figures.add(new Figure("f", "f history query, " + DpLoad.HISTORY_POINTS + "-point range, median", "ms", false,
                    DpLoad.Outcome::queryMillisMedian));
        }
        return figures;
    }

    /**
     * The migrate figure: an embedded store of {@code migratePoints} points filled once, then copied by {@code stratus
     * migrate} into a fresh database per run; skipped with a note when the jar has no {@code migrate}.
     */
    void migrate() {
        Path dir = setup.work().resolve("migrate");
        if (!MigrateTiming.available(setup.jar(), dir)) {
            results.note("migrate not measured: this jar has no `migrate` subcommand");
            return;
        }
        long t0 = System.nanoTime();
        long points = MigrateTiming.fill(setup.jar(), setup.stratusJvm(), dir, setup.migratePoints());
        Compare.log(String.format(Locale.ROOT, "filled an embedded store with %,d points in %.1f s", points, (System.nanoTime() - t0) / 1e9));
        String tag = String.format(Locale.ROOT, "migrate %,d points, SQLite -> PostgreSQL", points);
        for (int run = 1; run <= setup.runs(); run++) {
            String url = postgres().createDatabase();
            MigrateTiming.Outcome o = MigrateTiming.migrate(setup.jar(), dir.resolve("data"), dir, url, points);
            Compare.log(String.format(Locale.ROOT, "run %d migrate %,d points (%,d rows in all): %.1f s, %,.0f points/s", run, o.points(),
                    o.rows(), o.seconds(), o.pointsPerSecond()));
            results.add(new Results.Row("migrate.s", tag + ", time", "s", false), "stratus", o.seconds());
            results.add(new Results.Row("migrate.rate", tag + ", points per second", "points/s", true), "stratus", o.pointsPerSecond());
        }
    }

    /** The stores as the table's header names them, with PostgreSQL's version and settings when it ran. */
    String describe() {
        List<String> out = new ArrayList<>();
        for (String store : setup.stores()) {
            out.add(store.equals(POSTGRESQL) && postgres != null
                    ? "PostgreSQL " + postgres.version() + " (defaults, synchronous_commit=on, fsync=on, a temporary cluster on the same disk)"
                    : store.equals(SQLITE) ? "SQLite (store.sync=normal: WAL, no fsync per commit)" : store);
        }
        return String.join(" and ", out);
    }

    private PostgresUnderTest postgres() {
        if (postgres == null) {
            postgres = PostgresUnderTest.start();
            Compare.log("started PostgreSQL " + postgres.version() + " (pid " + postgres.pid() + ")");
        }
        return postgres;
    }

    @Override
    public void close() {
        if (postgres != null) {
            postgres.close();
            Compare.log("stopped PostgreSQL (pid " + postgres.pid() + ")");
        }
    }
}
