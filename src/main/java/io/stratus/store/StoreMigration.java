package io.stratus.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Copies a stopped embedded store into an empty PostgreSQL database, table by table, so that a server started on the
 * default SQLite file can move to PostgreSQL without losing anything. Both schemas are brought to their latest version
 * first; tables and columns are found by name, so a column added later needs no code here.
 *
 * <p>The whole copy is one PostgreSQL transaction, committed only after every table's row count matched on both sides:
 * a copy that fails leaves the database as empty as it found it, and can simply be run again.
 */
public final class StoreMigration {
    /** Nothing was copied: the source is in use, or the target already holds data. */
    public static final class Refused extends RuntimeException {
        Refused(String message) {
            super(message);
        }
    }

    /** What was copied: the rows of every table together, and the time it took from start to commit. */
    public record Result(long rows, long millis) {
        public long rowsPerSecond() {
            return rows * 1000 / Math.max(1, millis);
        }
    }

    /** The embedded store's file in its data directory, as {@link Database#openSqlite} names it. */
    private static final String SQLITE_FILE = "stratus.db";
    /** Not Stratus data: each database keeps its own record of migrations (SQLite's internals are skipped too). */
    private static final String FLYWAY_TABLE = "flyway_schema_history";

    /** Fewer points than this in a month of history get no partition of their own. */
    private static final long POINTS_PER_PARTITION = 1_000;
    private static final long DAY_MILLIS = 86_400_000L;

    private final Database source;
    private final Database target;
    private final String targetName;
    private final MigrationProgress progress;

    private StoreMigration(Database source, Database target, String targetName, MigrationProgress progress) {
        this.source = source;
        this.target = target;
        this.targetName = targetName;
        this.progress = progress;
    }

    /**
     * Copies the store in {@code dataDir} to {@code to}, reporting progress lines to {@code report}.
     *
     * @throws Refused when {@code dataDir} holds no store or a running server holds it, or when the database already
     *     holds rows; nothing was written then
     * @throws StoreException when the copy failed (it was rolled back)
     */
    public static Result run(Path dataDir, PostgresTarget to, Consumer<String> report) {
        if (!Files.isRegularFile(dataDir.resolve(SQLITE_FILE))) {
            throw new Refused("no Stratus store in " + dataDir.toAbsolutePath() + " (" + SQLITE_FILE
                    + " not found): give the data directory of the server with --from");
        }
        if (DataDirectory.isHeld(dataDir)) {
            throw new Refused("the store in " + dataDir.toAbsolutePath() + " is in use by a running Stratus server: "
                    + "stop it first, so that nothing changes while it is copied");
        }
        long start = System.nanoTime();
        // The target first: a database out of reach fails before the embedded store is touched. Held open for the
        // whole copy, the source keeps its directory's lock: no server can start on it meanwhile.
        try (Database target = Database.openPostgres(to);
             Database source = Database.openSqlite(dataDir, "normal")) {
            StoreMigration migration = new StoreMigration(source, target, to.printable(), new MigrationProgress(report));
            long rows = migration.copyAll().values().stream().mapToLong(Long::longValue).sum();
            return new Result(rows, (System.nanoTime() - start) / 1_000_000);
        }
    }

    private Map<String, Long> copyAll() {
        List<TableCopy> tables = plan();
        refuseRowsInTarget(tables);
        return target.inTransaction(t -> source.withConnection(s -> {
            int months = HistoryPartitions.createMonths(t, historyMonths(s));
            if (months > 0) {
                progress.line("created " + months + " monthly history partitions");
            }
            Map<String, Long> copied = new LinkedHashMap<>();
            for (TableCopy table : tables) {
                copied.put(table.name(), table.copy(s, t, progress));
            }
            for (TableCopy table : tables) {
                resetSequences(s, t, table);
            }
            checkCounts(s, t, copied);
            return copied;
        }));
    }

    /** Every table of the source, in an order where each comes after those its foreign keys point at. */
    private List<TableCopy> plan() {
        List<String> names = source.list("SELECT name FROM sqlite_master WHERE type = 'table'"
                + " AND name NOT LIKE 'sqlite_%' AND name <> '" + FLYWAY_TABLE + "' ORDER BY rowid", r -> r.getString(1));
        return target.withConnection(t -> {
            DatabaseMetaData meta = t.getMetaData();
            String schema = t.getSchema();
            Map<String, TableCopy> byName = new LinkedHashMap<>();
            Map<String, Set<String>> parents = new LinkedHashMap<>();
            for (String name : names) {
                byName.put(name, new TableCopy(name, sourceColumns(name), targetColumns(meta, schema, name)));
                parents.put(name, referencedTables(meta, schema, name));
            }
            List<TableCopy> ordered = new ArrayList<>();
            Set<String> placed = new LinkedHashSet<>();
            for (String name : names) {
                place(name, parents, placed, new LinkedHashSet<>());
            }
            placed.forEach(name -> ordered.add(byName.get(name)));
            return ordered;
        });
    }

    private static void place(String table, Map<String, Set<String>> parents, Set<String> placed, Set<String> visiting) {
        if (placed.contains(table) || !parents.containsKey(table)) {
            return;
        }
        if (!visiting.add(table)) {
            throw new StoreException("the foreign keys of the PostgreSQL schema form a cycle through " + visiting, null);
        }
        for (String parent : parents.get(table)) {
            if (!parent.equals(table)) {
                place(parent, parents, placed, visiting);
            }
        }
        placed.add(table);
    }

    private List<String> sourceColumns(String table) {
        return source.withConnection(s -> {
            try (Statement st = s.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM " + table + " LIMIT 0")) {
                ResultSetMetaData meta = rs.getMetaData();
                List<String> columns = new ArrayList<>();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    columns.add(meta.getColumnName(i));
                }
                return columns;
            }
        });
    }

    /** The target's columns of {@code table}: name to {@link java.sql.Types} and whether it draws from a sequence. */
    static Map<String, TableCopy.TargetColumn> targetColumns(DatabaseMetaData meta, String schema, String table)
            throws SQLException {
        Map<String, TableCopy.TargetColumn> columns = new LinkedHashMap<>();
        try (ResultSet rs = meta.getColumns(null, schema, table, null)) {
            while (rs.next()) {
                columns.put(rs.getString("COLUMN_NAME"), new TableCopy.TargetColumn(rs.getInt("DATA_TYPE"),
                        "YES".equals(rs.getString("IS_AUTOINCREMENT"))));
            }
        }
        if (columns.isEmpty()) {
            throw new StoreException("table " + table + " of the embedded store is missing from the PostgreSQL schema", null);
        }
        return columns;
    }

    private static Set<String> referencedTables(DatabaseMetaData meta, String schema, String table) throws SQLException {
        Set<String> parents = new LinkedHashSet<>();
        try (ResultSet rs = meta.getImportedKeys(null, schema, table)) {
            while (rs.next()) {
                parents.add(rs.getString("PKTABLE_NAME"));
            }
        }
        return parents;
    }

    /** Refuses a database a server has already used: its rows would mix with the copied ones (ids would collide). */
    private void refuseRowsInTarget(List<TableCopy> tables) {
        List<String> used = target.withConnection(t -> {
            List<String> out = new ArrayList<>();
            for (TableCopy table : tables) {
                if (count(t, "SELECT count(*) FROM (SELECT 1 FROM " + table.name() + " LIMIT 1) AS any_row") > 0) {
                    out.add(table.name());
                }
            }
            return out;
        });
        if (!used.isEmpty()) {
            throw new Refused(targetName + " already holds Stratus data (rows in " + String.join(", ", used)
                    + "): migrate into a new, empty database");
        }
    }

    /**
     * The UTC months of the history that get a partition before the copy, so that their points go straight there:
     * those with at least {@link #POINTS_PER_PARTITION} points, from 1970 to the last month a server creates ahead.
     * The points of other months (a device whose clock was wrong) go to the default partition, as on a server.
     */
    private static List<YearMonth> historyMonths(Connection s) throws SQLException {
        Map<YearMonth, Long> points = new TreeMap<>();
        try (Statement st = s.createStatement();
             ResultSet rs = st.executeQuery("SELECT ts / " + DAY_MILLIS + ", count(*) FROM datapoint GROUP BY 1")) {
            while (rs.next()) {
                points.merge(YearMonth.from(LocalDate.ofEpochDay(rs.getLong(1))), rs.getLong(2), Long::sum);
            }
        }
        YearMonth last = YearMonth.now(ZoneOffset.UTC).plusMonths(HistoryPartitions.MONTHS_AHEAD);
        List<YearMonth> months = new ArrayList<>();
        points.forEach((month, count) -> {
            if (count >= POINTS_PER_PARTITION && month.getYear() >= 1970 && !month.isAfter(last)) {
                months.add(month);
            }
        });
        return months;
    }

    /**
     * Moves each sequence of the target past the ids copied into its table, and past SQLite's own high-water mark
     * ({@code sqlite_sequence}): an id the embedded store once gave out, even to a row deleted since, is not given
     * out again.
     */
    private static void resetSequences(Connection s, Connection t, TableCopy table) throws SQLException {
        for (String column : table.sequenceColumns()) {
            long highest = Math.max(count(t, "SELECT coalesce(max(" + column + "), 0) FROM " + table.name()),
                    sqliteSequence(s, table.name()));
            if (highest > 0) {
                try (PreparedStatement ps = t.prepareStatement("SELECT setval(pg_get_serial_sequence(?, ?), ?)")) {
                    ps.setString(1, table.name());
                    ps.setString(2, column);
                    ps.setLong(3, highest);
                    ps.executeQuery().close();
                }
            }
        }
    }

    private static long sqliteSequence(Connection s, String table) throws SQLException {
        try (PreparedStatement ps = s.prepareStatement("SELECT seq FROM sqlite_sequence WHERE name = ?")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /** Every table's rows, counted on both sides before the commit; any difference rolls the copy back. */
    private void checkCounts(Connection s, Connection t, Map<String, Long> copied) throws SQLException {
        List<String> differences = new ArrayList<>();
        for (Map.Entry<String, Long> table : copied.entrySet()) {
            String sql = "SELECT count(*) FROM " + table.getKey();
            long inSource = count(s, sql);
            long inTarget = count(t, sql);
            if (inSource != inTarget || inSource != table.getValue()) {
                differences.add(table.getKey() + ": " + inSource + " in the embedded store, " + table.getValue()
                        + " copied, " + inTarget + " in PostgreSQL");
            }
        }
        if (!differences.isEmpty()) {
            throw new StoreException("row counts differ, nothing was committed: " + String.join("; ", differences), null);
        }
        progress.line("row counts match in all " + copied.size() + " tables");
    }

    private static long count(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
