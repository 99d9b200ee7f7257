package io.stratus;

import io.stratus.store.Database;
import io.stratus.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The command line: flags and environment to {@link Config}, start the platform, stop it on SIGTERM. */
@Command(name = "stratus", mixinStandardHelpOptions = true, version = "Stratus 0.1.0",
        description = "Self-hosted IoT device-access platform (OneNET MQTT and HTTP API compatible).")
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
        if (adminPassword != null) flags.put("admin.password", adminPassword);
        if (allowAnonymous) flags.put("mqtt.allow-anonymous", "true");
        return flags;
    }
}
