package io.stratus.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * A temporary PostgreSQL cluster for the benchmark: {@code initdb} and {@code pg_ctl} on a temporary directory and a
 * free port of 127.0.0.1, run as the {@code postgres} user when the benchmark runs as root (PostgreSQL refuses
 * root). The server keeps PostgreSQL's default durability (a commit waits for its WAL flush), loads
 * pg_stat_statements and times WAL flushes ({@code track_wal_io_timing}), so that a run can show what took the
 * database's time: statements, or waiting for the disk at commit. Stopped by its PID. (Not the tests'
 * {@code store.PostgresServer}: that one gives up durability for speed, which would flatter the figures.)
 */
final class PostgresCluster implements AutoCloseable {
    private static final Path INSTALLED = Path.of("/usr/lib/postgresql");
    /** The superuser initdb creates; local connections need no password ({@code --auth=trust}). */
    private static final String USER = "stratus";

    /** One statement of pg_stat_statements: its calls, mean and total execution time, rows, and share of the total. */
    record StatementStats(String query, long calls, double meanMillis, double totalMillis, long rows, double share) {
        @Override
        public String toString() {
            String text = query.replaceAll("\\s+", " ").strip();
            return String.format(Locale.ROOT, "%,d calls, mean %.3f ms, %,d rows, %.0f%% of the time: `%s`", calls,
                    meanMillis, rows, share * 100, text.length() > 140 ? text.substring(0, 140) + "..." : text);
        }
    }

    /** WAL flushes (pg_stat_wal): how many and their mean time. A commit's flush is in no statement's execution time. */
    record WalFlushes(long count, double meanMillis) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%,d WAL flushes (fsync), %.2f ms each on average", count, meanMillis);
        }
    }

    /** The statements that took the most execution time in a database, and the execution time of all of them. */
    record Statements(List<StatementStats> top, double allMillis) {}

    final int port;
    private final Path bin;
    private final Path dir;
    private final long pid;
    private final Thread stopOnExit = new Thread(this::close, "postgres-stop");
    private boolean closed;

    private PostgresCluster(int port, Path bin, Path dir, long pid) {
        this.port = port;
        this.bin = bin;
        this.dir = dir;
        this.pid = pid;
    }

    /** The {@code bin} directory of the newest PostgreSQL installed under /usr/lib/postgresql (Debian's layout). */
    static Optional<Path> installed() {
        if (!Files.isDirectory(INSTALLED)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(INSTALLED)) {
            return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
                    .max(Comparator.comparing(b -> b.getParent().getFileName().toString(),
                            Comparator.comparingInt(PostgresCluster::major)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * A new cluster in a fresh directory under /tmp (the benchmark's own work directory is root's alone), started and
     * ready, with pg_stat_statements created in the {@code postgres} database (not in Stratus's: Flyway refuses to
     * migrate a schema that already holds objects).
     */
    static PostgresCluster start(Path bin) {
        Path dir;
        try {
            dir = Files.createTempDirectory("stratus-bench-pg-");
            if (isRoot()) {
                UserPrincipal postgres = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
                Files.setOwner(dir, postgres);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a directory for PostgreSQL", e);
        }
        // --no-sync: initdb's own files need not reach the disk; the server's durability settings are untouched.
        run(dir, bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", USER, "--auth=trust",
                "-E", "UTF8", "--no-sync");
        int port = ServerProcess.freePort();
        String options = String.join(" ", "-p", String.valueOf(port), "-k", dir.toString(), "-c",
                "listen_addresses=127.0.0.1", "-c", "shared_preload_libraries=pg_stat_statements", "-c",
                "synchronous_commit=on", "-c", "fsync=on", "-c", "track_wal_io_timing=on");
        run(dir, bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l", dir.resolve("postgres.log").toString(),
                "-o", options, "-w", "-t", "60", "start");
        long pid = Long.parseLong(ServerProcess.read(dir.resolve("data/postmaster.pid")).lines().findFirst().orElseThrow().strip());
        PostgresCluster pg = new PostgresCluster(port, bin, dir, pid);
        Runtime.getRuntime().addShutdownHook(pg.stopOnExit);
        try {
            pg.inPostgres(st -> st.execute("CREATE EXTENSION pg_stat_statements"));
            return pg;
        } catch (RuntimeException e) {
            pg.close();
            throw e;
        }
    }

    /** The server's version, e.g. "15.14 (Debian 15.14-0+deb12u1)". */
    String version() {
        return inPostgres(st -> {
            try (ResultSet rs = st.executeQuery("SHOW server_version")) {
                rs.next();
                return rs.getString(1);
            }
        });
    }

    long pid() {
        return pid;
    }

    /** Creates an empty database; returns the URL Stratus takes ({@code --store}, {@code migrate --to}). */
    String createDatabase(String name) {
        inPostgres(st -> st.execute("CREATE DATABASE " + name));
        return "postgresql://" + USER + "@127.0.0.1:" + port + "/" + name;
    }

    /** The JDBC URL of a database, for the benchmark's own queries. */
    String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=" + USER;
    }

    /** Forgets every statement pg_stat_statements has counted so far, and the WAL flushes. */
    void resetStatistics() {
        inPostgres(st -> st.execute("SELECT pg_stat_statements_reset(), pg_stat_reset_shared('wal')"));
    }

    /**
     * The cluster's WAL flushes since the last {@link #resetStatistics()}, read once no backend is connected to
     * {@code database} any more (at most 10 s): a backend reports them when it exits, but while it runs only at
     * most once a second, or after 10 s idle.
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
        try (Connection c = DriverManager.getConnection(jdbcUrl("postgres")); PreparedStatement ps = c.prepareStatement(sql)) {
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
     * CPU time of the whole cluster in nanoseconds: the postmaster, its live children (a backend per connection,
     * the WAL writer, the checkpointer ...) and the children that have exited.
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

    /** {@code pg_ctl stop -m fast}, then SIGKILL by PID if the postmaster is still there after 30 s; removes the files. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (Thread.currentThread() != stopOnExit) {
            try {
                Runtime.getRuntime().removeShutdownHook(stopOnExit);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to: this call does the work
            }
        }
        Optional<ProcessHandle> postmaster = ProcessHandle.of(pid);
        try {
            run(dir, bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "fast", "-w", "stop");
        } catch (IllegalStateException e) {
            System.err.println(e.getMessage());
        }
        postmaster.ifPresent(p -> {
            try {
                p.onExit().get(30, TimeUnit.SECONDS);
            } catch (Exception notYet) {
                p.destroyForcibly();
            }
        });
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory: the OS cleans it in the end
        }
    }

    private interface SqlWork<T> {
        T run(Statement statement) throws SQLException;
    }

    private <T> T inPostgres(SqlWork<T> work) {
        try (Connection c = DriverManager.getConnection(jdbcUrl("postgres")); Statement st = c.createStatement()) {
            return work.run(st);
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL on port " + port + ": " + e.getMessage(), e);
        }
    }

    /** Runs a PostgreSQL tool to its end (at most 2 minutes), as the postgres user when this is root. */
    private static void run(Path dir, String... command) {
        List<String> cmd = new ArrayList<>();
        if (isRoot()) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.addAll(List.of(command));
        Path log = dir.resolve("tools.log");
        Process p = ServerProcess.start(cmd, dir, log);
        try {
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " did not finish in 2 minutes");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "):\n"
                    + ServerProcess.read(log) + ServerProcess.read(dir.resolve("postgres.log")));
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static int major(String version) {
        try {
            return Integer.parseInt(version);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
