package io.stratus.it;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.store.TestStore;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged server ({@code java -jar target/stratus.jar}) as a child process on free ports with its own data
 * directory (and its own PostgreSQL database when the tests run on PostgreSQL): start, SIGKILL ({@link #kill}), SIGTERM
 * ({@link #stop}), restart on the same data, its log lines, its descriptor count from {@code /proc/<pid>/fd}, and a
 * small JSON client of its HTTP API.
 */
final class ServerProcess implements AutoCloseable {
    static final String ADMIN_PASSWORD = "it-admin-password";
    private static final Pattern READY = Pattern.compile("Stratus ready: mqtt=(\\d+) http=(\\d+)");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final int KEPT_LINES = 20_000;

    private final Path dataDir;
    private final Map<String, String> settings;
    private final String heap;
    private final Deque<String> lines = new ArrayDeque<>();
    private Process process;
    private int mqttPort;
    private int httpPort;
    private String adminToken;

    private ServerProcess(Path dataDir, String heap, Map<String, String> settings) {
        this.dataDir = dataDir;
        this.heap = heap;
        this.settings = settings;
    }

    /**
     * Starts the server on the store under test ({@link TestStore}); {@code settings} are dotted keys passed as
     * {@code STRATUS_*} environment variables.
     */
    static ServerProcess start(Path dataDir, String heap, Map<String, String> settings) throws IOException {
        Map<String, String> all = new HashMap<>(TestStore.serverSettings(dataDir));
        all.putAll(settings);
        ServerProcess s = new ServerProcess(dataDir, heap, all);
        s.launch();
        return s;
    }

    static Path jar() {
        Path jar = Path.of(System.getProperty("stratus.jar", "target/stratus.jar"));
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " not found: run `mvn verify` (the ITs need the packaged jar)");
        }
        return jar;
    }

    private void launch() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xms" + heap, "-Xmx" + heap, "-XX:+ExitOnOutOfMemoryError"));
        String extra = System.getProperty("it.server.jvm", ""); // e.g. -Dit.server.jvm=-Xlog:gc to see the server's pauses
        if (!extra.isBlank()) {
            cmd.addAll(List.of(extra.trim().split("\\s+")));
        }
        cmd.addAll(List.of("-jar", jar().toString(),
                "--bind", "127.0.0.1", "--mqtt-port", "0", "--http-port", "0", "--data-dir", dataDir.toString(),
                "--admin-password", ADMIN_PASSWORD));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        settings.forEach((k, v) -> pb.environment().put("STRATUS_" + k.toUpperCase().replace('.', '_').replace('-', '_'), v));
        pb.environment().remove("STRATUS_LOG_LEVEL");
        String level = System.getProperty("it.server.log"); // e.g. -Dit.server.log=DEBUG to see every connect and close
        if (level != null) {
            pb.environment().put("STRATUS_LOG_LEVEL", level);
        }
        process = pb.start();
        CompletableFuture<int[]> ready = new CompletableFuture<>();
        Process p = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    Matcher m = READY.matcher(line);
                    if (m.find()) {
                        ready.complete(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
                    }
                    synchronized (lines) {
                        lines.addLast(line);
                        if (lines.size() > KEPT_LINES) {
                            lines.removeFirst();
                        }
                    }
                }
            } catch (IOException e) {
                // the process died; its end is what the test looks at
            }
            ready.completeExceptionally(new IllegalStateException("server exited before it was ready:\n" + String.join("\n", lines())));
        }, "server-output");
        reader.setDaemon(true);
        reader.start();
        try {
            int[] ports = ready.get(60, TimeUnit.SECONDS);
            mqttPort = ports[0];
            httpPort = ports[1];
        } catch (Exception e) {
            process.destroyForcibly();
            throw new IllegalStateException("server did not start: " + e.getMessage(), e);
        }
        adminToken = null;
    }

    /** SIGKILL: no shutdown hook, no flush; whatever the store had not committed is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, the graceful stop. */
    int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        return process.exitValue();
    }

    /** Starts the server again on the same data directory (new ports). */
    void restart() throws IOException {
        if (process.isAlive()) {
            throw new IllegalStateException("still running");
        }
        launch();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    int mqttPort() {
        return mqttPort;
    }

    int httpPort() {
        return httpPort;
    }

    Path dataDir() {
        return dataDir;
    }

    /** Open descriptors of the server process. */
    int fdCount() {
        String[] fds = new File("/proc/" + process.pid() + "/fd").list();
        if (fds == null) {
            throw new IllegalStateException("cannot list /proc/" + process.pid() + "/fd");
        }
        return fds.length;
    }

    /** Asks the server's JVM for a full GC (jcmd), so that a heap reading after it shows live data only. */
    void gc() throws IOException, InterruptedException {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        Process p = new ProcessBuilder(jcmd, String.valueOf(process.pid()), "GC.run").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        p.waitFor(30, TimeUnit.SECONDS);
    }

    /** Every log line kept so far (the last 20,000). */
    List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    List<String> lines(String... parts) {
        return lines().stream().filter(l -> java.util.Arrays.stream(parts).allMatch(l::contains)).toList();
    }

    // ---- HTTP -------------------------------------------------------------------------------------

    record Reply(int status, String text, JsonNode body) {
        int errno() {
            return body.path("errno").asInt(-1);
        }

        JsonNode data() {
            return body.path("data");
        }
    }

    Reply call(String method, String path, Object body, Map<String, String> headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).timeout(Duration.ofSeconds(30));
        headers.forEach(b::header);
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body));
        HttpResponse<String> r = HTTP.send(b.method(method, publisher).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode json;
        try {
            json = r.body().isEmpty() ? JSON.nullNode() : JSON.readTree(r.body());
        } catch (IOException notJson) {
            json = JSON.nullNode();
        }
        return new Reply(r.statusCode(), r.body(), json);
    }

    Reply asAdmin(String method, String path, Object body) throws IOException, InterruptedException {
        if (adminToken == null) {
            Reply login = call("POST", "/auth/login", Map.of("username", "admin", "password", ADMIN_PASSWORD), Map.of());
            adminToken = login.data().path("token").asText(null);
            if (adminToken == null) {
                throw new IllegalStateException("admin login failed: " + login.text());
            }
        }
        return call(method, path, body, Map.of("Authorization", "Bearer " + adminToken));
    }

    Reply withKey(String key, String method, String path) throws IOException, InterruptedException {
        return call(method, path, null, Map.of("api-key", key));
    }

    /** A value of {@code /metrics}; NaN when absent. */
    double metric(String name) throws IOException, InterruptedException {
        for (String line : call("GET", "/metrics", null, Map.of()).text().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        return Double.NaN;
    }

    /** A product and one device in it, created through the API: {product_id, master_key, device_id}. */
    String[] createProductAndDevice(String title, String authInfo) throws IOException, InterruptedException {
        Reply p = asAdmin("POST", "/products", Map.of("title", title, "protocol", "MQTT"));
        String productId = p.data().path("product_id").asText();
        String key = p.data().path("master_key").asText();
        Reply d = call("POST", "/devices", Map.of("title", title + "-device", "auth_info", authInfo), Map.of("api-key", key));
        if (d.errno() != 0) {
            throw new IllegalStateException("create device failed: " + d.text());
        }
        return new String[] {productId, key, d.data().path("device_id").asText()};
    }

    String createDevice(String key, String title, String authInfo) throws IOException, InterruptedException {
        Reply d = call("POST", "/devices", Map.of("title", title, "auth_info", authInfo), Map.of("api-key", key));
        if (d.errno() != 0) {
            throw new IllegalStateException("create device failed: " + d.text());
        }
        return d.data().path("device_id").asText();
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            kill();
        }
    }
}
