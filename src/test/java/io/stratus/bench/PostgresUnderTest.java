package io.stratus.bench;

import io.stratus.store.PostgresServer;
import io.stratus.store.PostgresTarget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * The PostgreSQL the benchmark runs Stratus on: a server of its own from the test harness
 * ({@link PostgresServer#startOwn}), with PostgreSQL's default durability (a commit waits for its WAL flush) and memory
 * settings, pg_stat_statements loaded and WAL flushes timed, so that a run can show what took the database's time:
 * statements, or waiting for the disk at commit. Stopped by {@link #close()} (else when the JVM ends).
 */
final class PostgresUnderTest implements AutoCloseable {
    /** What differs from the harness's server: its memory settings back to PostgreSQL's defaults, and the statistics. */
    private static final List<String> SETTINGS = List.of(
            "shared_buffers = 128MB",
            "max_wal_size = 1GB",
            "synchronous_commit = on",
            "fsync = on",
            "shared_preload_libraries = 'pg_stat_statements'",
            "track_wal_io_timing = on");

    /** One statement of pg_stat_statements: its calls, mean and total execution time, rows, and share of the total. */
    record StatementStats(String query, long calls, double meanMillis, double totalMillis, long rows, double share) {
        @Override
        public String toString() {
            String text = query.replaceAll("\\s+", " ").strip();
            return String.format(Locale.ROOT, "%,d calls, mean %.3f ms, %,d rows, %.0f%% of the time: `%s`", calls,
                    meanMillis, rows, share * 100, text.length() > 140 ? text.substring(0, 140) + "..." : text);
        }
    }

    /** The statements that took the most execution time in a database, and the execution time of all of them. */
    record Statements(List<StatementStats> top, double allMillis) {}

    /** WAL flushes (pg_stat_wal): how many and their mean time. A commit's flush is in no statement's execution time. */
    record WalFlushes(long count, double meanMillis) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%,d WAL flushes (fsync), %.2f ms each on average", count, meanMillis);
        }
    }

    private final PostgresServer server;
    private final long pid;
    private final String version;

    private PostgresUnderTest(PostgresServer server) {
        this.server = server;
        this.pid = server.pid();
        this.version = inPostgres(st -> {
            // In the postgres database, not in Stratus's: Flyway refuses to migrate a schema that already holds objects.
            st.execute("CREATE EXTENSION pg_stat_statements");
            try (ResultSet rs = st.executeQuery("SHOW server_version")) {
                rs.next();
                return rs.getString(1);
            }
        });
    }

    /** Whether PostgreSQL's server programs are installed where Debian puts them (/usr/lib/postgresql/<version>/bin). */
    static boolean installed() {
        Path versions = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(versions)) {
            return false;
        }
        try (Stream<Path> each = Files.list(versions)) {
            return each.anyMatch(v -> Files.isExecutable(v.resolve("bin/initdb")));
        } catch (IOException e) {
            return false;
        }
    }

    static PostgresUnderTest start() {
        return new PostgresUnderTest(PostgresServer.startOwn(SETTINGS));
    }

    /** The server's version, e.g. "15.14 (Debian 15.14-0+deb12u1)". */
    String version() {
        return version;
    }

    long pid() {
        return pid;
    }

    /** Creates an empty database; returns the URL Stratus takes ({@code --store}, {@code migrate --to}). */
    String createDatabase() {
        return server.createDatabase();
    }

    /** The name of the database a URL of {@link #createDatabase()} names. */
    static String name(String url) {
        return URI.create(url).getPath().substring(1);
    }

    /** A connection to the database {@code url} names, for the benchmark's own queries. */
    static Connection connect(String url) throws SQLException {
        PostgresTarget target = PostgresTarget.parse(url, null);
        return DriverManager.getConnection(target.jdbcUrl(), target.user(), target.password());
    }

    /** Forgets every statement pg_stat_statements has counted so far, and the WAL flushes. */
    void resetStatistics() {
        inPostgres(st -> st.execute("SELECT pg_stat_statements_reset(), pg_stat_reset_shared('wal')"));
    }

    /**
     * The server's WAL flushes since the last {@link #resetStatistics()}, read once no backend is connected to
     * {@code database} any more (at most 10 s): a backend reports them when it exits, but while it runs only at most
     * once a second, or after 10 s idle.
     */
    WalFlushes walFlushes(String database) {
        return inPostgres(st -> {
            for (int i = 0; i < 100 && connected(st, database); i++) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
            }
            try (ResultSet rs = st.executeQuery("SELECT wal_sync, wal_sync_time FROM pg_stat_wal")) {
                rs.next();
                long count = rs.getLong(1);
                return new WalFlushes(count, count == 0 ? 0 : rs.getDouble(2) / count);
            }
        });
    }

    private static boolean connected(Statement st, String database) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + database + "'")) {
            rs.next();
            return rs.getLong(1) > 0;
        }
    }

    /**
     * What {@code database} did since the last {@link #resetStatistics()}: the {@code n} statements that took the most
     * execution time, and the execution time of all its statements.
     */
    Statements topStatements(String database, int n) {
        String sql = "SELECT s.query, s.calls, s.mean_exec_time, s.total_exec_time, s.rows, sum(s.total_exec_time) OVER () "
                + "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = ? "
                + "ORDER BY s.total_exec_time DESC LIMIT ?";
        try (Connection c = connect(server.urlOf("postgres")); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, database);
            ps.setInt(2, n);
            List<StatementStats> top = new ArrayList<>();
            double all = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    all = rs.getDouble(6);
                    top.add(new StatementStats(rs.getString(1), rs.getLong(2), rs.getDouble(3), rs.getDouble(4), rs.getLong(5),
                            rs.getDouble(4) / all));
                }
            }
            return new Statements(top, all);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read pg_stat_statements: " + e.getMessage(), e);
        }
    }

    /**
     * CPU time of the whole server in nanoseconds: the postmaster, its live children (a backend per connection, the
     * WAL writer, the checkpointer ...) and the children that have exited.
     */
    long cpuNanos() {
        long total = ServerProcess.cpuNanos(pid) + ServerProcess.exitedChildrenCpuNanos(pid);
        for (ProcessHandle child : ProcessHandle.of(pid).map(p -> p.children().toList()).orElse(List.of())) {
            try {
                total += ServerProcess.cpuNanos(child.pid());
            } catch (UncheckedIOException exited) {
                // gone between the listing and the read: its time is now in the postmaster's exited children
            }
        }
        return total;
    }

    /** Stops the server ({@code pg_ctl stop}, by the PID in its pid file); the harness removes its files when the JVM ends. */
    @Override
    public void close() {
        server.stopNow();
    }

    private interface SqlWork<T> {
        T run(Statement statement) throws SQLException;
    }

    private <T> T inPostgres(SqlWork<T> work) {
        try (Connection c = connect(server.urlOf("postgres")); Statement st = c.createStatement()) {
            return work.run(st);
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL (pid " + pid + "): " + e.getMessage(), e);
        }
    }
}
