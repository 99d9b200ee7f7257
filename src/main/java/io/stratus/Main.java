package io.stratus;

import io.stratus.store.Database;
import io.stratus.store.PostgresTarget;
import io.stratus.store.StoreException;
import io.stratus.store.StoreMigration;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The command line: flags and environment to {@link Config}, start the platform, stop it on SIGTERM; or, as
 * {@code migrate}, copy a stopped embedded store into PostgreSQL.
 */
@Command(name = "stratus", mixinStandardHelpOptions = true, version = "Stratus 0.1.0",
        description = "Self-hosted IoT device-access platform (OneNET MQTT and HTTP API compatible).",
        subcommands = Main.Migrate.class)
public final class Main implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(Main.class);
    private static final String SQLITE_TMPDIR = "org.sqlite.tmpdir";

    @Option(names = "--bind", description = "Address to listen on (default 0.0.0.0).")
    String bind;
    @Option(names = "--mqtt-port", description = "MQTT port (default 1883; 6002 serves OneNET firmware unchanged; 0 = any free port).")
    Integer mqttPort;
    @Option(names = "--http-port", description = "HTTP API and console port (default 8080; 0 = any free port).")
    Integer httpPort;
    @Option(names = "--data-dir", description = "Directory of the embedded store (default ./data).")
    Path dataDir;
    @Option(names = "--store", description = "A PostgreSQL server instead of the embedded store: "
            + "postgresql://user@host:5432/db (else STRATUS_STORE_URL; the password best in --store-password-file).")
    String store;
    @Option(names = "--store-password-file", description = "A file holding the PostgreSQL password.")
    Path storePasswordFile;
    @Option(names = "--cluster", description = "Join a cluster over NATS: nats://host:4222 (several comma-separated); "
            + "needs --store (docs/cluster.md).")
    String cluster;
    @Option(names = "--admin-password", description = "Admin password (else STRATUS_ADMIN_PASSWORD; generated on first start when unset).")
    String adminPassword;
    @Option(names = "--allow-anonymous", description = "Let clients without credentials in, scoped to the default product.")
    boolean allowAnonymous;
    @Option(names = "--config", description = "A properties file of settings (dotted keys).")
    Path configFile;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Config config = Config.load(configFile, System.getenv(), flags());
        keepNativeLibraryInDataDir(config.dataDir());
        Platform platform;
        try {
            platform = Platform.start(config);
        } catch (StoreException e) {
            log.error("Stratus cannot start: {}", e.getMessage()); // the store's reason says it; the trace is for DEBUG
            log.debug("store failure at start", e);
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("Stratus stopping");
            platform.close();
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
        return 0;
    }

    /**
     * SQLite's driver extracts a 1 MB native library to the temp directory per process and leaves it there when the
     * process is killed; in the data directory the next start removes it (see {@code DataDirectory}). Must run before
     * the driver loads. An {@code -Dorg.sqlite.tmpdir} given by the user wins.
     */
    private static void keepNativeLibraryInDataDir(Path dataDir) throws IOException {
        if (System.getProperty(SQLITE_TMPDIR) == null) {
            Path dir = Files.createDirectories(Database.nativeLibraryDir(dataDir));
            System.setProperty(SQLITE_TMPDIR, dir.toString());
        }
    }

    private Map<String, String> flags() {
        Map<String, String> flags = new HashMap<>();
        if (bind != null) flags.put("bind", bind);
        if (mqttPort != null) flags.put("mqtt.port", mqttPort.toString());
        if (httpPort != null) flags.put("http.port", httpPort.toString());
        if (dataDir != null) flags.put("data.dir", dataDir.toString());
        if (store != null) flags.put("store.url", store);
        if (storePasswordFile != null) flags.put("store.password-file", storePasswordFile.toString());
        if (cluster != null) flags.put("cluster.nats-url", cluster);
        if (adminPassword != null) flags.put("admin.password", adminPassword);
        if (allowAnonymous) flags.put("mqtt.allow-anonymous", "true");
        return flags;
    }

    /** {@code stratus migrate}: the embedded store of a stopped server into an empty PostgreSQL database. */
    @Command(name = "migrate", mixinStandardHelpOptions = true,
            description = "Copy the embedded store of a stopped server into an empty PostgreSQL database, checking "
                    + "every table's row count. Exit code 2: refused (server running, database not empty).")
    static final class Migrate implements Callable<Integer> {
        /** Nothing was copied: a running store, a database that holds data, or arguments that name neither. */
        static final int REFUSED = 2;

        @Option(names = "--from", required = true, paramLabel = "<data dir>",
                description = "The data directory of the stopped server.")
        Path from;
        @Option(names = "--to", required = true, paramLabel = "<url>",
                description = "The PostgreSQL database: postgresql://user@host:5432/db or a jdbc:postgresql: URL.")
        String to;
        @Option(names = "--to-password-file", paramLabel = "<file>", description = "A file holding the PostgreSQL password.")
        Path toPasswordFile;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if (!Files.isDirectory(from)) {
                err.println("migrate refused: no data directory " + from.toAbsolutePath());
                return REFUSED;
            }
            if (!PostgresTarget.isPostgres(to.strip())) {
                err.println("migrate refused: --to must start with postgresql:// or jdbc:postgresql:");
                return REFUSED;
            }
            PostgresTarget target;
            try {
                target = PostgresTarget.parse(to.strip(), toPasswordFile);
            } catch (IllegalArgumentException e) {
                err.println("migrate refused: " + e.getMessage());
                return REFUSED;
            }
            keepNativeLibraryInDataDir(from);
            try {
                StoreMigration.Result done = StoreMigration.run(from, target, out::println);
                // The last line, read by bench/: total rows, seconds, rows per second.
                out.printf(Locale.ROOT, "migrated %d rows in %.1f s, %d rows/s%n", done.rows(), done.millis() / 1000.0,
                        done.rowsPerSecond());
                return 0;
            } catch (StoreMigration.Refused e) {
                err.println("migrate refused: " + e.getMessage());
                return REFUSED;
            } catch (StoreException e) {
                err.println("migrate failed: " + e.getMessage());
                log.debug("migration failure", e);
                return 1;
            }
        }
    }
}
