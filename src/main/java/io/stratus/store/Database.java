package io.stratus.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;

/**
 * The store: the embedded SQLite file in the data directory, or a PostgreSQL server; migrated by Flyway from the
 * dialect's own migrations, behind a small pool. Callers see one API; what differs in SQL is {@link Dialect}'s.
 */
public final class Database implements AutoCloseable {
    /** A unit of JDBC work. */
    @FunctionalInterface
    public interface SqlWork<T> {
        T run(Connection connection) throws SQLException;
    }

    /** Reads the current row of a query. */
    @FunctionalInterface
    public interface Row<T> {
        T read(ResultSet row) throws SQLException;
    }

    /** Sets the parameters of one statement. */
    @FunctionalInterface
    public interface Parameters {
        void bind(PreparedStatement statement) throws SQLException;
    }

    private final HikariDataSource dataSource;
    private final Dialect dialect;
    private final DataDirectory directory;
    private final int datapointWriters;
    /** Test hook: while set, every transaction is rolled back and fails with this reason (see {@link #injectFault}). */
    private volatile String injectedFault;

    private Database(HikariDataSource dataSource, Dialect dialect, DataDirectory directory, int datapointWriters) {
        this.dataSource = dataSource;
        this.dialect = dialect;
        this.directory = directory;
        this.datapointWriters = datapointWriters;
    }

    /** Connections to the store: the writers, the broker's reader and the API's reads share them. */
    static final int POOL_SIZE = 4;

    /**
     * Opens every pooled connection now rather than in the pool's background filler: the server is ready with all its
     * descriptors and connection memory, and neither grows later under load.
     */
    private static void fill(HikariDataSource ds, int size) {
        List<Connection> held = new ArrayList<>();
        try {
            for (int i = 0; i < size; i++) {
                held.add(ds.getConnection());
            }
        } catch (SQLException e) {
            throw new StoreException("cannot open the store's connections: " + e.getMessage(), e);
        } finally {
            for (Connection c : held) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // returned to the pool; nothing to undo
                }
            }
        }
    }

    /** Opens (creating if needed) {@code dataDir/stratus.db} and brings its schema up to date. */
    public static Database openSqlite(Path dataDir, String sync) {
        DataDirectory directory = DataDirectory.lock(dataDir);
        Path file = dataDir.resolve("stratus.db").toAbsolutePath();
        HikariConfig hikari = new HikariConfig();
        // WAL + synchronous=NORMAL survives a killed process; FULL also survives a power cut.
        hikari.setJdbcUrl("jdbc:sqlite:" + file + "?journal_mode=WAL&synchronous=" + sync.toUpperCase()
                + "&busy_timeout=10000&foreign_keys=true");
        hikari.setMaximumPoolSize(POOL_SIZE);
        hikari.setPoolName("store");
        HikariDataSource ds = null;
        try {
            directory.ownerOnlyStore(file);
            ds = new HikariDataSource(hikari);
            Flyway.configure().dataSource(ds).locations(Dialect.SQLITE.migrations()).load().migrate();
            fill(ds, POOL_SIZE);
            return new Database(ds, Dialect.SQLITE, directory, 1);
        } catch (RuntimeException e) {
            if (ds != null) {
                ds.close();
            }
            directory.close();
            throw ds == null ? e : new StoreException("cannot migrate " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The store a server runs on: the embedded SQLite file in {@code dataDir} when {@code url} is empty, else the
     * PostgreSQL server it names ({@link PostgresTarget}).
     */
    public static Database open(Path dataDir, String sync, String url, Path passwordFile) {
        return open(dataDir, sync, url, passwordFile, 1);
    }

    /** As {@link #open(Path, String, String, Path)}, with {@code datapointWriters} on PostgreSQL ({@link #datapointWriters}). */
    public static Database open(Path dataDir, String sync, String url, Path passwordFile, int datapointWriters) {
        return url == null || url.isBlank() ? openSqlite(dataDir, sync)
                : openPostgres(PostgresTarget.parse(url.strip(), passwordFile), datapointWriters);
    }

    /** Connects to a PostgreSQL server (15 or later) and brings its schema up to date; one data point writer. */
    public static Database openPostgres(PostgresTarget target) {
        return openPostgres(target, 1);
    }

    /** As {@link #openPostgres(PostgresTarget)}, with a pooled connection for each further data point writer. */
    public static Database openPostgres(PostgresTarget target, int datapointWriters) {
        int poolSize = POOL_SIZE + datapointWriters - 1;
        HikariConfig hikari = new HikariConfig();
        hikari.setJdbcUrl(target.jdbcUrl());
        if (target.user() != null) {
            hikari.setUsername(target.user());
        }
        if (target.password() != null) {
            hikari.setPassword(target.password());
        }
        // Batches of inserts go as multi-row statements: one round trip per batch, not per row.
        hikari.addDataSourceProperty("reWriteBatchedInserts", "true");
        hikari.addDataSourceProperty("ApplicationName", "stratus");
        hikari.setMaximumPoolSize(poolSize);
        hikari.setPoolName("store");
        // A server that is down fails a commit (no PUBACK, CONNACK 3, not ready) within 10 s instead of Hikari's 30;
        // the pool reconnects by itself once the server is back.
        hikari.setConnectionTimeout(10_000);
        HikariDataSource ds = null;
        try {
            ds = new HikariDataSource(hikari);
            Flyway.configure().dataSource(ds).locations(Dialect.POSTGRESQL.migrations()).load().migrate();
            fill(ds, poolSize);
            return new Database(ds, Dialect.POSTGRESQL, null, datapointWriters);
        } catch (RuntimeException e) {
            if (ds != null) {
                ds.close();
            }
            throw new StoreException("cannot open the PostgreSQL store " + target.printable() + ": " + e.getMessage(), e);
        }
    }

    /** Where SQLite should extract its native library for a server on {@code dataDir}; see {@link DataDirectory}. */
    public static Path nativeLibraryDir(Path dataDir) {
        return dataDir.resolve(DataDirectory.NATIVE_DIR).toAbsolutePath();
    }

    public Dialect dialect() {
        return dialect;
    }

    /** How many data point writers commit side by side: one on SQLite, the pool has a connection for each. */
    public int datapointWriters() {
        return datapointWriters;
    }

    /** Runs {@code work} on a pooled connection in auto-commit mode. */
    public <T> T withConnection(SqlWork<T> work) {
        try (Connection c = dataSource.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new StoreException(e.getMessage(), e);
        }
    }

    /** Every row of a query without parameters, each read by {@code row}, on a pooled connection. */
    public <T> List<T> list(String sql, Row<T> row) {
        return withConnection(c -> {
            List<T> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(row.read(rs));
                }
            }
            return out;
        });
    }

    /** Runs one INSERT, UPDATE or DELETE on a pooled connection in auto-commit mode; returns the rows it changed. */
    public int update(String sql, Parameters parameters) {
        return withConnection(c -> update(c, sql, parameters));
    }

    /** Runs one INSERT, UPDATE or DELETE on {@code c} (a transaction's, or a writer's); returns the rows it changed. */
    public static int update(Connection c, String sql, Parameters parameters) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            parameters.bind(ps);
            return ps.executeUpdate();
        }
    }

    /**
     * Runs one INSERT on {@code c} into a table whose {@code id} column the database assigns, and returns that id.
     * pgjdbc answers {@link Statement#RETURN_GENERATED_KEYS} with every column of the row ({@code RETURNING *}), so
     * PostgreSQL is asked for the {@code id} column alone; SQLite's driver returns the row id either way.
     */
    public long insertReturningId(Connection c, String sql, Parameters parameters) throws SQLException {
        try (PreparedStatement ps = switch (dialect) {
            case SQLITE -> c.prepareStatement(sql, Statement.RETURN_GENERATED_KEYS);
            case POSTGRESQL -> c.prepareStatement(sql, new String[] {"id"});
        }) {
            parameters.bind(ps);
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                if (!keys.next()) {
                    throw new SQLException("no generated id");
                }
                return keys.getLong(1);
            }
        }
    }

    /** Runs {@code work} in one transaction: committed when it returns, rolled back when it throws. */
    public <T> T inTransaction(SqlWork<T> work) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                String fault = injectedFault;
                if (fault != null) {
                    throw new StoreException(fault + " (injected fault)", null);
                }
                c.commit();
                return result;
            } catch (SQLException | RuntimeException | Error e) {
                // An Error (out of memory) too: the reset of auto-commit below would otherwise commit half the work.
                // SQLite may already have rolled back by itself (SQLITE_FULL, SQLITE_IOERR): then rollback and the
                // reset of auto-commit fail too ("no transaction is active") and must not hide the first error.
                try {
                    c.rollback();
                } catch (SQLException rollback) {
                    e.addSuppressed(rollback);
                }
                throw e;
            } finally {
                try {
                    c.setAutoCommit(true);
                } catch (SQLException reset) {
                    // the transaction ended without us (see above); the pool resets the connection's state anyway
                }
            }
        } catch (SQLException e) {
            throw new StoreException(e.getMessage(), e);
        }
    }

    /**
     * Fault injection for tests of storage failures: while {@code reason} is not null every transaction fails at its
     * commit with a {@link StoreException} carrying it (e.g. SQLite's "database or disk is full"), as a full disk or
     * a locked database would; reads keep working. {@code null} clears the fault.
     */
    public void injectFault(String reason) {
        injectedFault = reason;
    }

    @Override
    public void close() {
        try {
            dataSource.close();
        } finally {
            if (directory != null) {
                directory.close();
            }
        }
    }
}
