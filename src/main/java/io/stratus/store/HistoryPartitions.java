package io.stratus.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The monthly range partitions of PostgreSQL's {@code datapoint} table (points by {@code ts}, UTC months): created
 * ahead by Stratus itself, under an advisory lock so that several nodes on one database do not race, and dropped
 * whole by retention instead of deleting rows. Points outside every month partition (far past or future device
 * times) land in the table's default partition; a month created later first takes its rows out of it. On SQLite
 * there is one table and this does nothing.
 */
public final class HistoryPartitions implements AutoCloseable {
    /** Months created ahead of the current one: a point a device stamps a little ahead still lands in its month. */
    public static final int MONTHS_AHEAD = 2;
    /** The advisory lock of partition maintenance ("Stratus", 1). */
    static final long LOCK_KEY = 0x5374726174757301L;
    private static final Logger log = LoggerFactory.getLogger(HistoryPartitions.class);

    /** One month partition: its name and range {@code [from, to)} in milliseconds. */
    public record Month(String name, long from, long to) {}

    private static final String MONTH_PARTITIONS = "child.relname ~ '^datapoint_y[0-9]{4}m[0-9]{2}$'";
    private static final String DEFAULT_PARTITION = "pg_get_expr(child.relpartbound, child.oid) = 'DEFAULT'";

    private final Database db;
    private final ScheduledExecutorService maintenance;

    private HistoryPartitions(Database db, ScheduledExecutorService maintenance) {
        this.db = db;
        this.maintenance = maintenance;
    }

    /**
     * Creates the partitions up to {@link #MONTHS_AHEAD} months ahead now, and again every 6 hours on a thread of its
     * own ({@code history-partitions}); on SQLite, nothing.
     */
    public static HistoryPartitions start(Database db) {
        if (db.dialect() != Dialect.POSTGRESQL) {
            return new HistoryPartitions(db, null);
        }
        HistoryPartitions p = new HistoryPartitions(db, Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "history-partitions");
            t.setDaemon(true);
            return t;
        }));
        p.ensureAhead(System.currentTimeMillis());
        p.maintenance.scheduleWithFixedDelay(() -> {
            try {
                p.ensureAhead(System.currentTimeMillis());
            } catch (Throwable e) {
                log.warn("history partitions not created: {}", e.toString());
            }
        }, 6, 6, TimeUnit.HOURS);
        return p;
    }

    /**
     * Makes sure the months from {@code now}'s to {@link #MONTHS_AHEAD} ahead have their partitions; returns how many it
     * created (0 when another node holds the lock: it does the same).
     */
    public int ensureAhead(long now) {
        if (db.dialect() != Dialect.POSTGRESQL) {
            return 0;
        }
        YearMonth first = YearMonth.from(Instant.ofEpochMilli(now).atZone(ZoneOffset.UTC));
        List<YearMonth> ahead = new ArrayList<>();
        for (int i = 0; i <= MONTHS_AHEAD; i++) {
            ahead.add(first.plusMonths(i));
        }
        return db.inTransaction(c -> {
            if (!lock(c)) {
                return 0;
            }
            int created = createMissing(c, ahead);
            if (created > 0) {
                log.info("created {} monthly history partitions up to {}", created, first.plusMonths(MONTHS_AHEAD));
            }
            return created;
        });
    }

    /**
     * Creates, in {@code c}'s transaction, the partitions of those {@code months} that have none yet: for a migration,
     * whose history goes back to months no server created. Nothing when {@code datapoint} is not partitioned.
     */
    static int createMonths(Connection c, Collection<YearMonth> months) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'datapoint'::regclass")) {
            if (!rs.next() || rs.getInt(1) == 0) {
                return 0;
            }
        }
        if (!lock(c)) {
            throw new StoreException("another Stratus server is creating history partitions in this database", null);
        }
        return createMissing(c, months);
    }

    private static int createMissing(Connection c, Collection<YearMonth> months) throws SQLException {
        List<String> existing = partitions(c, MONTH_PARTITIONS);
        List<String> defaults = partitions(c, DEFAULT_PARTITION);
        String defaultPartition = defaults.isEmpty() ? null : defaults.get(0);
        int created = 0;
        for (YearMonth ym : months) {
            Month m = month(ym);
            if (!existing.contains(m.name())) {
                create(c, m, defaultPartition);
                created++;
            }
        }
        return created;
    }

    /**
     * Drops every month partition that ends at or before {@code cutoff} (retention): whole tables, no row deletes.
     * Returns the names dropped. Rows older than {@code cutoff} in the rest (the partly expired month, the default
     * partition) are the caller's to delete.
     */
    public static List<String> dropBefore(Database db, long cutoff) {
        if (db.dialect() != Dialect.POSTGRESQL) {
            return List.of();
        }
        return db.inTransaction(c -> {
            List<String> dropped = new ArrayList<>();
            if (!lock(c)) {
                return dropped;
            }
            for (Month m : months(c)) {
                if (m.to() <= cutoff) {
                    try (Statement st = c.createStatement()) {
                        st.executeUpdate("DROP TABLE " + m.name());
                    }
                    dropped.add(m.name());
                }
            }
            if (!dropped.isEmpty()) {
                log.info("history retention dropped partitions {}", dropped);
            }
            return dropped;
        });
    }

    /** The month partitions that exist, oldest first. */
    public List<Month> months() {
        return db.dialect() != Dialect.POSTGRESQL ? List.of() : db.withConnection(HistoryPartitions::months);
    }

    /** The partition of a UTC month: {@code datapoint_yYYYYmMM}, {@code [first ms of the month, first ms of the next)}. */
    static Month month(YearMonth ym) {
        long from = ym.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
        long to = ym.plusMonths(1).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
        return new Month(String.format("datapoint_y%04dm%02d", ym.getYear(), ym.getMonthValue()), from, to);
    }

    private static boolean lock(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_xact_lock(?)")) {
            ps.setLong(1, LOCK_KEY);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /**
     * A month's partition, taking the month's rows out of the default partition first: attaching a range the default
     * partition holds rows of would fail.
     */
    private static void create(Connection c, Month m, String defaultPartition) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.executeUpdate("CREATE TABLE " + m.name() + " (LIKE datapoint INCLUDING DEFAULTS INCLUDING CONSTRAINTS)");
            if (defaultPartition != null) {
                st.executeUpdate("WITH moved AS (DELETE FROM " + defaultPartition + " WHERE ts >= " + m.from() + " AND ts < "
                        + m.to() + " RETURNING *) INSERT INTO " + m.name() + " SELECT * FROM moved");
            }
            st.executeUpdate("ALTER TABLE datapoint ATTACH PARTITION " + m.name() + " FOR VALUES FROM (" + m.from() + ") TO ("
                    + m.to() + ")");
        }
    }

    /** The partitions of {@code datapoint} that {@code condition} (on {@code child}) selects, by name. */
    private static List<String> partitions(Connection c, String condition) throws SQLException {
        List<String> names = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT child.relname FROM pg_inherits i "
                + "JOIN pg_class child ON child.oid = i.inhrelid JOIN pg_class parent ON parent.oid = i.inhparent "
                + "WHERE parent.relname = 'datapoint' AND " + condition + " ORDER BY child.relname")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        return names;
    }

    private static List<Month> months(Connection c) throws SQLException {
        List<Month> out = new ArrayList<>();
        for (String name : partitions(c, MONTH_PARTITIONS)) {
            out.add(month(YearMonth.of(Integer.parseInt(name.substring(11, 15)), Integer.parseInt(name.substring(16, 18)))));
        }
        return out;
    }

    @Override
    public void close() {
        if (maintenance != null) {
            maintenance.shutdownNow();
        }
    }
}
