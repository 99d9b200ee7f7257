package io.stratus.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.Config;
import io.stratus.Platform;
import io.stratus.store.PostgresTarget;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import java.util.HashMap;
import java.util.Map;

/**
 * A real Stratus server for tests: MQTT and HTTP on free ports, the store in a test's temporary
 * directory, plus a small JSON client of the HTTP API for fixtures. Restartable on the same data.
 */
public final class TestPlatform implements AutoCloseable, BeforeAllCallback, AfterAllCallback {
    public static final String ADMIN_PASSWORD = "test-admin-password";
    /**
     * Runs the tests on a PostgreSQL server instead of the SQLite file: {@code -Dstratus.test.store-url=
     * postgresql://user@host:port/postgres} names the server and a database to connect to for creating others.
     */
    public static final String STORE_URL_PROPERTY = "stratus.test.store-url";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private Path dataDir;
    private final Map<String, String> settings;
    private Platform platform;
    private String adminToken;
    /** Whether this platform runs on a PostgreSQL database it created ({@link #STORE_URL_PROPERTY}). */
    private boolean ownDatabase;

    private TestPlatform(Path dataDir, Map<String, String> overrides) {
        this.settings = new HashMap<>(Map.of("mqtt.port", "0", "http.port", "0", "bind", "127.0.0.1",
                "admin.password", ADMIN_PASSWORD));
        settings.putAll(overrides);
        if (dataDir != null) {
            startIn(dataDir);
        }
    }

    private void startIn(Path dir) {
        this.dataDir = dir;
        settings.put("data.dir", dir.toString());
        String server = System.getProperty(STORE_URL_PROPERTY, "");
        if (!server.isBlank() && !settings.containsKey("store.url")) {
            settings.put("store.url", postgresDatabase(server.strip(), dir));
            ownDatabase = true;
        }
        this.platform = Platform.start(Config.of(settings));
    }

    /**
     * The store URL of a database of its own on {@code server} for the data directory {@code dir}, created empty on
     * first use: a server started again on the same directory finds its data, as it does in the SQLite file.
     */
    private static String postgresDatabase(String server, Path dir) {
        String name = databaseName(dir);
        PostgresTarget admin = PostgresTarget.parse(server, null);
        try (Connection c = DriverManager.getConnection(admin.jdbcUrl(), admin.user(), admin.password());
             PreparedStatement exists = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            exists.setString(1, name);
            try (ResultSet rs = exists.executeQuery()) {
                if (!rs.next()) {
                    c.createStatement().executeUpdate("CREATE DATABASE " + name);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create the test database " + name + ": " + e.getMessage(), e);
        }
        String jdbc = server.startsWith("jdbc:") ? "jdbc:" : "";
        URI base = URI.create(server.substring(jdbc.length()));
        return jdbc + base.getScheme() + "://" + base.getRawAuthority() + "/" + name
                + (base.getRawQuery() == null ? "" : "?" + base.getRawQuery());
    }

    private static String databaseName(Path dir) {
        String path = dir.toAbsolutePath().toString();
        String readable = dir.getFileName().toString().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
        // at most 63 bytes in an identifier
        return "stratus_" + readable.substring(0, Math.min(readable.length(), 40)) + "_" + Integer.toHexString(path.hashCode());
    }

    private static void dropPostgresDatabase(String server, Path dir) {
        PostgresTarget admin = PostgresTarget.parse(server, null);
        try (Connection c = DriverManager.getConnection(admin.jdbcUrl(), admin.user(), admin.password())) {
            c.createStatement().executeUpdate("DROP DATABASE IF EXISTS " + databaseName(dir) + " WITH (FORCE)");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot drop the test database: " + e.getMessage(), e);
        }
    }

    /**
     * A server shared by the tests of one class: register it with {@code @RegisterExtension static final};
     * it starts in a temporary directory before the class's {@code @BeforeAll} methods and stops after its tests.
     */
    public static TestPlatform perClass() {
        return perClass(Map.of());
    }

    /** As {@link #perClass()}, with settings (dotted keys) over the test defaults. */
    public static TestPlatform perClass(Map<String, String> settings) {
        return new TestPlatform(null, settings);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        startIn(Files.createTempDirectory("stratus-test"));
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        close();
        if (ownDatabase) {
            dropPostgresDatabase(System.getProperty(STORE_URL_PROPERTY).strip(), dataDir);
        }
        try (Stream<Path> files = Files.walk(dataDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    public static TestPlatform start(Path dataDir) {
        return new TestPlatform(dataDir, Map.of());
    }

    public static TestPlatform start(Path dataDir, Map<String, String> settings) {
        return new TestPlatform(dataDir, settings);
    }

    /** Stops the server gracefully and starts it again on the same data directory and ports. */
    public void restart() {
        restart(Map.of());
    }

    /** {@link #restart()} with some settings changed from now on. */
    public void restart(Map<String, String> changed) {
        settings.putAll(changed);
        int mqtt = platform.mqttPort();
        int http = platform.httpPort();
        platform.close();
        settings.put("mqtt.port", String.valueOf(mqtt));
        settings.put("http.port", String.valueOf(http));
        platform = Platform.start(Config.of(settings));
        adminToken = null;
    }

    public Platform platform() {
        return platform;
    }

    public int mqttPort() {
        return platform.mqttPort();
    }

    public String mqttUri() {
        return "tcp://127.0.0.1:" + platform.mqttPort();
    }

    public Path dataDir() {
        return dataDir;
    }

    // ---- HTTP -----------------------------------------------------------------------------------

    /** A response: HTTP status and parsed JSON body. */
    public record Reply(int status, JsonNode body) {
        public int errno() {
            return body.path("errno").asInt(-1);
        }

        public JsonNode data() {
            return body.path("data");
        }
    }

    public Reply call(String method, String path, Object body, Map<String, String> headers) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.httpPort() + path));
            headers.forEach(b::header);
            HttpRequest.BodyPublisher publisher;
            if (body == null) {
                publisher = HttpRequest.BodyPublishers.noBody();
            } else if (body instanceof byte[] raw) {
                publisher = HttpRequest.BodyPublishers.ofByteArray(raw);
            } else if (body instanceof String text) {
                publisher = HttpRequest.BodyPublishers.ofString(text);
                b.header("Content-Type", "application/json");
            } else {
                publisher = HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body));
                b.header("Content-Type", "application/json");
            }
            HttpResponse<byte[]> r = HTTP.send(b.method(method, publisher).build(), HttpResponse.BodyHandlers.ofByteArray());
            JsonNode json = r.body().length == 0 ? JSON.nullNode() : JSON.readTree(r.body());
            return new Reply(r.statusCode(), json);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A value of {@code GET /metrics} (Prometheus text); NaN when the metric is absent. */
    public double metric(String name) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.httpPort()
                    + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            for (String line : r.body().split("\n")) {
                if (line.startsWith(name + " ")) {
                    return Double.parseDouble(line.substring(name.length() + 1).trim());
                }
            }
            return Double.NaN;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A call with a product's key in the {@code api-key} header. */
    public Reply withKey(String key, String method, String path, Object body) {
        return call(method, path, body, key == null ? Map.of() : Map.of("api-key", key));
    }

    /** A call as the admin. */
    public Reply asAdmin(String method, String path, Object body) {
        return call(method, path, body, Map.of("Authorization", "Bearer " + adminToken()));
    }

    public String adminToken() {
        if (adminToken == null) {
            Reply r = call("POST", "/auth/login", Map.of("username", "admin", "password", ADMIN_PASSWORD), Map.of());
            adminToken = r.data().path("token").asText(null);
            if (adminToken == null) {
                throw new IllegalStateException("admin login failed: " + r);
            }
        }
        return adminToken;
    }

    /** A product created through the API. */
    public record TestProduct(String id, String masterKey) {}

    /** A device created through the API. */
    public record TestDevice(String id, String productId, String authInfo) {}

    public TestProduct createProduct(String title) {
        Reply r = asAdmin("POST", "/products", Map.of("title", title, "protocol", "MQTT"));
        if (r.errno() != 0) {
            throw new IllegalStateException("create product failed: " + r);
        }
        return new TestProduct(r.data().path("product_id").asText(), r.data().path("master_key").asText());
    }

    public TestDevice createDevice(TestProduct product, String title, String authInfo) {
        Reply r = withKey(product.masterKey(), "POST", "/devices", Map.of("title", title, "auth_info", authInfo));
        if (r.errno() != 0) {
            throw new IllegalStateException("create device failed: " + r);
        }
        return new TestDevice(r.data().path("device_id").asText(), product.id(), authInfo);
    }

    @Override
    public void close() {
        platform.close();
    }
}
