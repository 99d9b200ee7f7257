package io.stratus.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.Config;
import io.stratus.Platform;
import io.stratus.store.TestStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import java.util.HashMap;
import java.util.Map;

/**
 * A real Stratus server for tests: MQTT and HTTP on free ports, the store in a test's temporary
 * directory (or, with {@code -Dstratus.test.store=postgresql}, a PostgreSQL database of that directory's own: see
 * {@link TestStore}), plus a small JSON client of the HTTP API for fixtures. Restartable on the same data.
 */
public final class TestPlatform implements AutoCloseable, BeforeAllCallback, AfterAllCallback {
    public static final String ADMIN_PASSWORD = "test-admin-password";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private Path dataDir;
    private final Map<String, String> settings;
    private Platform platform;
    private String adminToken;

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
        TestStore.serverSettings(dir).forEach(settings::putIfAbsent);
        this.platform = Platform.start(Config.of(settings));
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
