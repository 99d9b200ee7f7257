package io.stratus.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.sqlite.SQLiteConfig;

/**
 * The store the tests run on, chosen by the system property {@code stratus.test.store}: {@code sqlite} (the default:
 * the file in the test's data directory) or {@code postgresql} (a database of its own on {@link PostgresServer} for
 * each data directory). Tests that start a server or open a store take it from here, so that the same test class runs
 * on both.
 */
public final class TestStore {
    public static final String PROPERTY = "stratus.test.store";

    /** Data directory to its PostgreSQL database; the database is dropped once the directory is gone. */
    private static final Map<Path, String> DATABASES = new HashMap<>();

    private TestStore() {}

    public static boolean postgres() {
        String store = System.getProperty(PROPERTY, "sqlite");
        return switch (store) {
            case "sqlite" -> false;
            case "postgresql" -> true;
            default -> throw new IllegalStateException(PROPERTY + " must be sqlite or postgresql, not " + store);
        };
    }

    /**
     * The settings a server on {@code dataDir} needs for the store under test: none for SQLite; for PostgreSQL, the
     * {@code store.url} of a database of the directory's own, the same one whenever that directory is started again.
     */
    public static Map<String, String> serverSettings(Path dataDir) {
        return postgres() ? Map.of("store.url", databaseOf(dataDir)) : Map.of();
    }

    /** Opens the store of {@code dataDir} as a server would. */
    public static Database open(Path dataDir) {
        return Database.open(dataDir, "normal", postgres() ? databaseOf(dataDir) : "", null);
    }

    /**
     * A read-only JDBC connection to the store of {@code dataDir}, beside the server's own and also while no server
     * runs: on SQLite it leaves the write-ahead log as it finds it, for the next server to recover.
     */
    public static Connection readOnlyConnection(Path dataDir) throws SQLException {
        if (!postgres()) {
            SQLiteConfig readOnly = new SQLiteConfig();
            readOnly.setReadOnly(true);
            return DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("stratus.db"), readOnly.toProperties());
        }
        PostgresTarget target = PostgresTarget.parse(databaseOf(dataDir), null);
        Connection c = DriverManager.getConnection(target.jdbcUrl(), target.user(), target.password());
        c.setReadOnly(true);
        return c;
    }

    private static synchronized String databaseOf(Path dataDir) {
        Path dir = dataDir.toAbsolutePath().normalize();
        String url = DATABASES.get(dir);
        if (url == null) {
            try {
                Files.createDirectories(dir); // while it exists, its database is kept (dropAbandoned)
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            dropAbandoned();
            url = PostgresServer.get().createDatabase();
            DATABASES.put(dir, url);
        }
        return url;
    }

    /**
     * Test data directories are deleted after their test: the databases of those gone are dropped, so that a run's
     * hundreds of databases (about 8 MB each) do not pile up on the server.
     */
    private static void dropAbandoned() {
        for (Iterator<Map.Entry<Path, String>> it = DATABASES.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Path, String> e = it.next();
            if (!Files.exists(e.getKey())) {
                PostgresServer.get().dropDatabase(e.getValue());
                it.remove();
            }
        }
    }
}
